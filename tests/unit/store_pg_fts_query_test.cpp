// FTS5's query syntax as a PostgreSQL tsquery (store/pg_fts_query.hpp): the
// same meaning, the same precedence, the same refusals.

#include <gtest/gtest.h>

#include "store/pg_fts_query.hpp"

namespace patternd::store::pg {
namespace {

std::string translated(std::string_view q) {
  auto r = tsquery_of_fts5(q);
  EXPECT_TRUE(r.ok()) << q << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : "";
}

std::string refusal(std::string_view q) {
  auto r = tsquery_of_fts5(q);
  EXPECT_FALSE(r.ok()) << q << " was taken as " << (r.ok() ? r.value() : "");
  return r.ok() ? "" : r.error().message;
}

TEST(PgFtsQuery, WordsPhrasesAndPrefixesAreQuotedOperands) {
  EXPECT_EQ(translated("login"), "'login'");
  EXPECT_EQ(translated("\"login page\""), "'login page'");
  EXPECT_EQ(translated("pars*"), "'pars':*");
  EXPECT_EQ(translated("PÁRSER"), "'PÁRSER'");  // folded by the search configuration
  EXPECT_EQ(translated("snake_case 42"), "('snake_case' & '42')");
}

TEST(PgFtsQuery, OperatorsKeepFts5sPrecedence) {
  // NOT binds tighter than AND (or juxtaposition), AND tighter than OR.
  EXPECT_EQ(translated("a b"), "('a' & 'b')");
  EXPECT_EQ(translated("a AND b OR c"), "(('a' & 'b') | 'c')");
  EXPECT_EQ(translated("a OR b c"), "('a' | ('b' & 'c'))");
  EXPECT_EQ(translated("login NOT handler"), "('login' & !'handler')");
  EXPECT_EQ(translated("a NOT b NOT c"), "(('a' & !'b') & !'c')");
  EXPECT_EQ(translated("(a OR b) NOT c"), "((('a' | 'b')) & !'c')");
  // Lower-case operators are words, as in FTS5.
  EXPECT_EQ(translated("cats and dogs"), "(('cats' & 'and') & 'dogs')");
}

TEST(PgFtsQuery, QuotesAndBackslashesCannotLeaveTheirOperand) {
  EXPECT_EQ(translated("\"it's\""), "'it''s'");
  EXPECT_EQ(translated("\"a\\b\""), "'a\\\\b'");
  EXPECT_EQ(translated("\"say \"\"hi\"\"\""), "'say \"hi\"'");
  EXPECT_EQ(translated("\"x' | 'y\""), "'x'' | ''y'");
}

TEST(PgFtsQuery, WhatFts5RefusesIsRefusedWithAReason) {
  EXPECT_NE(refusal("\"unterminated").find("unterminated"), std::string::npos);
  EXPECT_NE(refusal("login AND").find("ends"), std::string::npos);
  EXPECT_NE(refusal("OR login").find("operator"), std::string::npos);
  EXPECT_NE(refusal("NEAR(a b)").find("NEAR"), std::string::npos);
  EXPECT_NE(refusal("nocolumn:x").find("column"), std::string::npos);
  EXPECT_NE(refusal("(a OR b").find("("), std::string::npos);
  EXPECT_NE(refusal("a)").find(")"), std::string::npos);
  for (const char* q : {"*", "^", "", "   ", "!!! ???", "a - b", "+a"}) refusal(q);
}

}  // namespace
}  // namespace patternd::store::pg
