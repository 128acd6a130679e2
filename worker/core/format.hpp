#pragma once
// Numbers for people: progress lines and summaries.

#include <cstdint>
#include <string>

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

}  // namespace patternd::core
