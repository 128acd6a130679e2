#include <gtest/gtest.h>

#include "detect/failure.hpp"

namespace patternd::detect {
namespace {

TEST(DetectFailure, TheSameErrorElsewhereSharesOneSignature) {
  const std::string a = normalize_failure(
      "TypeError: Cannot read properties of undefined (reading 'id') at /app/x.js:10:5");
  const std::string b = normalize_failure(
      "TypeError: Cannot read properties of undefined (reading 'name') at /srv/lib/y.js:877:13");
  EXPECT_EQ(a, "TypeError: Cannot read properties of undefined (reading <str>) at <path>");
  EXPECT_EQ(a, b);
}

TEST(DetectFailure, ReplacesNumbersHexUuidsQuotedStringsAndPaths) {
  EXPECT_EQ(normalize_failure("AssertionError: expected 42 to equal 17"),
            "AssertionError: expected <n> to equal <n>");
  EXPECT_EQ(normalize_failure("segfault at 0x7ffd5e8c writing 3.75 MB"),
            "segfault at <hex> writing <n> MB");
  EXPECT_EQ(normalize_failure("commit 3f2c9a1b7e not found"), "commit <hex> not found");
  EXPECT_EQ(normalize_failure("session 123e4567-e89b-12d3-a456-426614174000 expired"),
            "session <uuid> expired");
  EXPECT_EQ(normalize_failure(R"(KeyError: "user_id" in `lookup`)"), "KeyError: <str> in <str>");
  EXPECT_EQ(normalize_failure("cannot open ./data/x.db: permission denied"),
            "cannot open <path>: permission denied");
  EXPECT_EQ(normalize_failure("FAILED tests/test_api.py::test_login - assert 1 == 2"),
            "FAILED <path> - assert <n> == <n>");
  EXPECT_EQ(normalize_failure(R"(open C:\Users\ci\app.log failed)"), "open <path> failed");
}

TEST(DetectFailure, KeepsErrorCodesAndWordsWithDigits) {
  EXPECT_EQ(normalize_failure("error[E0308]: mismatched types at src/main.rs:12"),
            "error[E0308]: mismatched types at <path>");
  EXPECT_EQ(normalize_failure("TS2322: Type 'string' is not assignable"),
            "TS2322: Type <str> is not assignable");
  EXPECT_EQ(normalize_failure("deadbeef is not a number"), "deadbeef is not a number");
}

TEST(DetectFailure, AnApostropheInAWordIsNotAQuote) {
  EXPECT_EQ(normalize_failure("can't connect to 'db' on port 5432"),
            "can't connect to <str> on port <n>");
}

TEST(DetectFailure, CollapsesWhitespaceAndTrims) {
  EXPECT_EQ(normalize_failure("  Error:\t\tboom \n  again  "), "Error: boom again");
}

TEST(DetectFailure, CutsLongSignaturesOnACharacterBoundary) {
  std::string text = "Error: ";
  for (int i = 0; i < 400; ++i) text += "é";  // two bytes each
  const std::string signature = normalize_failure(text);
  EXPECT_LE(signature.size(), k_max_signature_bytes);
  EXPECT_EQ(signature.size() % 2, 1u);  // "Error: " is 7 bytes, then whole characters
}

TEST(DetectFailure, TheTypeIsTheLeadingNameOrTheFirstErrorWord) {
  EXPECT_EQ(failure_type("TypeError: Cannot read properties"), "TypeError");
  EXPECT_EQ(failure_type("error[E0308]: mismatched types"), "error[E0308]");
  EXPECT_EQ(failure_type("django.db.utils.OperationalError: locked"),
            "django.db.utils.OperationalError");
  EXPECT_EQ(failure_type("FAILED <path> - AssertionError: assert <n> == <n>"), "AssertionError");
  EXPECT_EQ(failure_type("permission denied while connecting"), "error");
}

}  // namespace
}  // namespace patternd::detect
