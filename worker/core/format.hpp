#pragma once
// Numbers for people: progress lines and summaries.

#include <cstdint>
#include <string>
#include <string_view>

namespace patternd::core {

// "1234567" -> "1,234,567"
inline std::string with_commas(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// The strings of `items`, `separator` between them.
template <typename Strings>
std::string join(const Strings& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace patternd::core
