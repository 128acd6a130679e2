#pragma once
// Why a message was rejected (a dead letter): short, stable classes for
// metrics labels and `dead-letters list --reason`; the detail a person acts
// on goes to the table. The decoder sets most; the store sets db_constraint.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace patternd::core {

enum class RejectClass : std::uint8_t {
  invalid_json,
  invalid_utf8,
  too_large,
  too_deep,
  not_an_object,
  missing_field,
  wrong_type,
  out_of_range,
  duplicate_key,  // a top-level field twice: a producer bug, and which one was meant is unknown
  db_constraint,  // a constraint the decoder did not catch, found by the store
};

// Every class, in the enum's order: to name them and to initialise every
// label value of a metric.
inline constexpr std::array<std::string_view, 10> k_reject_class_names = {
    "invalid_json",  "invalid_utf8", "too_large",    "too_deep",      "not_an_object",
    "missing_field", "wrong_type",   "out_of_range", "duplicate_key", "db_constraint",
};

constexpr std::string_view to_string(RejectClass reject) {
  return k_reject_class_names[static_cast<std::size_t>(reject)];
}

// The names follow the enum: the last one is its last value.
static_assert(to_string(RejectClass::db_constraint) == "db_constraint" &&
              static_cast<std::size_t>(RejectClass::db_constraint) + 1 ==
                  k_reject_class_names.size());

constexpr std::optional<RejectClass> parse_reject_class(std::string_view name) {
  for (std::size_t i = 0; i < k_reject_class_names.size(); ++i)
    if (k_reject_class_names[i] == name) return static_cast<RejectClass>(i);
  return std::nullopt;
}

}  // namespace patternd::core
