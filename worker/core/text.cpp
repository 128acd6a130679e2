#include "core/text.hpp"

#include <cctype>
#include <cstdint>
#include <cstdio>

namespace patternd::core {
namespace {

// The length of the valid UTF-8 sequence at the start of `s` and its code
// point, or 0 when it does not start with one (overlong forms, surrogates and
// code points above U+10FFFF are not valid).
std::size_t utf8_sequence(std::string_view s, char32_t& code_point) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  code_point = cp;
  return len;
}

// Code points that reorder or hide what follows them, or end a line.
bool is_invisible_control(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void append_escape(std::string& out, const char* format, unsigned value) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, format, value);
  out += buffer;
}

}  // namespace

std::string escape_for_terminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7F) {
      out.push_back(static_cast<char>(byte));
      ++i;
    } else if (byte == '\n') {
      out += "\\n", ++i;
    } else if (byte == '\r') {
      out += "\\r", ++i;
    } else if (byte == '\t') {
      out += "\\t", ++i;
    } else if (byte < 0x80) {  // the other C0 controls and DEL
      append_escape(out, "\\x%02x", byte);
      ++i;
    } else {
      char32_t cp = 0;
      const std::size_t len = utf8_sequence(text.substr(i), cp);
      if (len == 0) {
        append_escape(out, "\\x%02x", byte);
        ++i;
      } else if (is_invisible_control(cp)) {
        append_escape(out, "\\u%04x", static_cast<unsigned>(cp));
        i += len;
      } else {
        out.append(text.substr(i, len));
        i += len;
      }
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = utf8_sequence(text.substr(i), cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string truncate_utf8(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  while (max > 0 && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80) --max;
  return std::string(text.substr(0, max));
}

std::string percent_encode(std::string_view text) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == ':' ||
        ch == ',') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out;
}

}  // namespace patternd::core
