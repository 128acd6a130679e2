#include <gtest/gtest.h>

#include "core/time.hpp"

namespace patternd::core {
namespace {

TEST(CoreTime, ParsesUtcWithMilliseconds) {
  EXPECT_EQ(parse_rfc3339("2026-11-20T10:30:00.123Z"), 1795170600123LL);
}

TEST(CoreTime, AppliesTheOffsetToReachUtc) {
  EXPECT_EQ(parse_rfc3339("2026-11-20T12:30:00+02:00"), parse_rfc3339("2026-11-20T10:30:00Z"));
  EXPECT_EQ(parse_rfc3339("2026-11-20T05:00:00-05:30"), parse_rfc3339("2026-11-20T10:30:00Z"));
}

TEST(CoreTime, TruncatesFractionsBeyondMilliseconds) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.123999Z"), 123);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.5Z"), 500);
}

TEST(CoreTime, RejectsWhatIsNotAnInstant) {
  for (const char* bad : {"", "2026-11-20", "2026-11-20T10:30:00", "2026-02-30T00:00:00Z",
                          "2026-13-01T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T10:30:00.Z",
                          "2026-11-20T10:30:00Zjunk", "yesterday", "2026-11-20T10:30:00+2:00"})
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
}

TEST(CoreTime, AcceptsLeapDaysOnlyInLeapYears) {
  EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_rfc3339("2026-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_rfc3339("1900-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(parse_rfc3339("2000-02-29T00:00:00Z").has_value());
}

TEST(CoreTime, FormatsWhatItParses) {
  EXPECT_EQ(format_rfc3339(1795170600123LL), "2026-11-20T10:30:00.123Z");
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace patternd::core
