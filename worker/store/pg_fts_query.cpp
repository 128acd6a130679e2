#include "store/pg_fts_query.hpp"

#include <vector>

namespace patternd::store::pg {
namespace {

enum class Kind { word, phrase, open, close, and_op, or_op, not_op, end };

struct Token {
  Kind kind = Kind::end;
  std::string text;     // a word's or a phrase's
  bool prefix = false;  // followed by '*'
};

// FTS5's bareword characters: ASCII letters, digits and '_', and anything
// beyond ASCII.
bool bareword_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
         u == '_';
}

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

core::Result<std::vector<Token>> tokens_of(std::string_view q) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  const auto starred = [&q, &i] {
    if (i < q.size() && q[i] == '*') {
      ++i;
      return true;
    }
    return false;
  };
  while (i < q.size()) {
    const char c = q[i];
    if (space(c)) {
      ++i;
    } else if (c == '(' || c == ')') {
      tokens.push_back({c == '(' ? Kind::open : Kind::close, "", false});
      ++i;
    } else if (c == '"') {
      // A phrase; "" inside it is one quote.
      std::string text;
      for (++i;; ++i) {
        if (i >= q.size()) return core::Error{"unterminated phrase (a \" without its end)"};
        if (q[i] == '"') {
          if (i + 1 < q.size() && q[i + 1] == '"') {
            text += '"';
            ++i;
            continue;
          }
          ++i;
          break;
        }
        text += q[i];
      }
      Token t{Kind::phrase, std::move(text), false};
      t.prefix = starred();
      tokens.push_back(std::move(t));
    } else if (bareword_char(c)) {
      const std::size_t start = i;
      while (i < q.size() && bareword_char(q[i])) ++i;
      std::string word(q.substr(start, i - start));
      if (word == "NEAR" && i < q.size() && q[i] == '(')
        return core::Error{"NEAR groups are not supported here"};
      if (i < q.size() && q[i] == ':')
        return core::Error{"column filters (\"" + word + ":\") are not supported"};
      if (word == "AND" || word == "OR" || word == "NOT") {
        tokens.push_back({word == "AND"  ? Kind::and_op
                          : word == "OR" ? Kind::or_op
                                         : Kind::not_op,
                          "", false});
        continue;
      }
      Token t{Kind::word, std::move(word), false};
      t.prefix = starred();
      tokens.push_back(std::move(t));
    } else {
      return core::Error{std::string("unexpected \"") + c + "\""};
    }
  }
  tokens.push_back({Kind::end, "", false});
  return tokens;
}

// An operand of to_tsquery: quoted, a quote doubled and a backslash escaped.
std::string operand(const Token& t) {
  std::string out = "'";
  for (const char c : t.text) {
    if (c == '\'') out += '\'';
    if (c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  if (t.prefix) out += ":*";
  return out;
}

// Recursive descent over FTS5's grammar: or := and (OR and)*;
// and := not ([AND] not)*; not := primary (NOT primary)*;
// primary := word | phrase | ( or ).
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : m_tokens(std::move(tokens)) {}

  core::Result<std::string> parse() {
    auto expression = or_expression();
    if (!expression) return expression;
    if (peek() != Kind::end) return core::Error{unexpected()};
    return expression;
  }

 private:
  Kind peek() const { return m_tokens[m_at].kind; }
  bool starts_primary() const {
    return peek() == Kind::word || peek() == Kind::phrase || peek() == Kind::open;
  }
  std::string unexpected() const {
    switch (peek()) {
      case Kind::end:
        return "the query ends where a word or phrase was expected";
      case Kind::close:
        return "unbalanced \")\"";
      case Kind::and_op:
      case Kind::or_op:
      case Kind::not_op:
        return "an operator without an operand";
      default:
        return "unexpected text";
    }
  }

  core::Result<std::string> or_expression() {
    auto left = and_expression();
    if (!left) return left;
    std::string out = left.value();
    while (peek() == Kind::or_op) {
      ++m_at;
      auto right = and_expression();
      if (!right) return right;
      out = "(" + out + " | " + right.value() + ")";
    }
    return out;
  }

  core::Result<std::string> and_expression() {
    auto left = not_expression();
    if (!left) return left;
    std::string out = left.value();
    while (peek() == Kind::and_op || starts_primary()) {
      if (peek() == Kind::and_op) ++m_at;
      auto right = not_expression();
      if (!right) return right;
      out = "(" + out + " & " + right.value() + ")";
    }
    return out;
  }

  core::Result<std::string> not_expression() {
    auto left = primary();
    if (!left) return left;
    std::string out = left.value();
    while (peek() == Kind::not_op) {
      ++m_at;
      auto right = primary();
      if (!right) return right;
      out = "(" + out + " & !" + right.value() + ")";
    }
    return out;
  }

  core::Result<std::string> primary() {
    const Token& t = m_tokens[m_at];
    if (t.kind == Kind::word || t.kind == Kind::phrase) {
      ++m_at;
      return operand(t);
    }
    if (t.kind != Kind::open) return core::Error{unexpected()};
    ++m_at;
    auto inner = or_expression();
    if (!inner) return inner;
    if (peek() != Kind::close) return core::Error{"unbalanced \"(\""};
    ++m_at;
    return "(" + inner.value() + ")";
  }

  std::vector<Token> m_tokens;
  std::size_t m_at = 0;
};

}  // namespace

core::Result<std::string> tsquery_of_fts5(std::string_view query) {
  auto tokens = tokens_of(query);
  if (!tokens) return tokens.error();
  return Parser(std::move(tokens).value()).parse();
}

}  // namespace patternd::store::pg
