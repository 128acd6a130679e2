#include "api/params.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/format.hpp"
#include "core/text.hpp"

namespace patternd::api {
namespace {

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

constexpr std::string_view k_base64url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view bytes) {
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char ch : bytes) {
    bits = (bits << 8) | static_cast<unsigned char>(ch);
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(k_base64url[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(k_base64url[(bits << (6 - count)) & 63]);
  return out;
}

std::optional<std::string> unbase64url(std::string_view text) {
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char ch : text) {
    const auto at = k_base64url.find(ch);
    if (at == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(at);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

// A cursor is base64url("listing\nkey\nid\ntext"): opaque to clients,
// checked on the way back in (the text, an agent's name, may hold anything).
std::optional<store::Position> decode_cursor(const std::string& listing, std::string_view cursor) {
  const auto text = unbase64url(cursor);
  if (!text) return std::nullopt;
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const std::size_t end = text->find('\n', start);
    if (end == std::string::npos) return std::nullopt;
    parts.push_back(text->substr(start, end - start));
    start = end + 1;
  }
  parts.push_back(text->substr(start));
  if (parts[0] != listing) return std::nullopt;
  store::Position p;
  char* end = nullptr;
  p.key = std::strtod(parts[1].c_str(), &end);
  if (end == parts[1].c_str() || *end != '\0' || !std::isfinite(p.key)) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), p.id);
  if (ec != std::errc() || ptr != parts[2].data() + parts[2].size()) return std::nullopt;
  p.text = parts[3];
  return p;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (text[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  if (out.find('\0') != std::string::npos || !core::is_valid_utf8(out)) return std::nullopt;
  return out;
}

Params::Params(std::string_view query, const std::vector<std::string>& known) {
  std::size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view item = query.substr(start, end - start);
    start = end + 1;
    if (item.empty()) {
      if (end >= query.size()) break;
      continue;
    }
    const auto eq = item.find('=');
    const auto name = percent_decode(item.substr(0, eq), true);
    if (!name) throw BadRequest("a parameter name is not valid percent-encoded UTF-8");
    if (std::find(known.begin(), known.end(), *name) == known.end())
      throw BadRequest(known.empty()
                           ? "unknown parameter '" + *name + "' (this endpoint takes none)"
                           : "unknown parameter '" + *name +
                                 "' (known: " + core::join(known, ", ") + ")");
    const auto value =
        percent_decode(eq == std::string_view::npos ? "" : item.substr(eq + 1), true);
    if (!value) throw BadRequest(*name + ": not valid percent-encoded UTF-8");
    if (value->empty()) throw BadRequest(*name + ": expected a value, got an empty one");
    // (A cursor carries an agent's name, which may be long; the server bounds
    // the whole request line.)
    if (value->size() > k_max_value_bytes && *name != "cursor")
      throw BadRequest(*name + ": longer than " + std::to_string(k_max_value_bytes) + " bytes");
    if (!m_values.emplace(*name, *value).second) throw BadRequest(*name + ": given more than once");
    if (end >= query.size()) break;
  }
}

std::optional<std::string> Params::text(const std::string& name) const {
  const auto it = m_values.find(name);
  if (it == m_values.end()) return std::nullopt;
  return it->second;
}

std::string Params::required_text(const std::string& name) const {
  auto value = text(name);
  if (!value) throw BadRequest(name + ": required");
  return *value;
}

std::optional<std::int64_t> Params::integer(const std::string& name, std::int64_t min,
                                            std::int64_t max) const {
  const auto value = text(name);
  if (!value) return std::nullopt;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || end != value->data() + value->size() || n < min || n > max)
    throw BadRequest(name + ": expected an integer " + std::to_string(min) + ".." +
                     std::to_string(max) + ", got \"" + *value + "\"");
  return n;
}

std::optional<double> Params::number(const std::string& name, double min, double max) const {
  const auto value = text(name);
  if (!value) return std::nullopt;
  char* end = nullptr;
  const double n = std::strtod(value->c_str(), &end);
  if (end != value->c_str() + value->size() || !std::isfinite(n) || n < min || n > max) {
    char range[64];
    std::snprintf(range, sizeof range, "%g..%g", min, max);
    throw BadRequest(name + ": expected a number " + range + ", got \"" + *value + "\"");
  }
  return n;
}

std::optional<core::TimestampMs> Params::time(const std::string& name) const {
  const auto value = text(name);
  if (!value) return std::nullopt;
  const auto t = core::parse_rfc3339(*value);
  if (!t)
    throw BadRequest(name + ": expected an RFC 3339 time such as 2026-11-20T10:30:00Z, got \"" +
                     *value + "\"");
  return t;
}

std::string Params::choice(const std::string& name, const std::vector<std::string>& choices) const {
  const auto value = text(name);
  if (!value) return choices.front();
  if (std::find(choices.begin(), choices.end(), *value) == choices.end())
    throw BadRequest(name + ": expected one of " + core::join(choices, ", ") + ", got \"" + *value +
                     "\"");
  return *value;
}

store::Page Params::page(const std::string& listing) const {
  store::Page page;
  page.limit = integer("limit", 1, k_max_limit).value_or(k_default_limit);
  if (const auto cursor = text("cursor")) {
    page.after = decode_cursor(listing, *cursor);
    if (!page.after)
      throw BadRequest(
          "cursor: not a next_cursor of this listing (take it from the previous page, with "
          "the same sort)");
  }
  return page;
}

std::string encode_cursor(const std::string& listing, const store::Position& position) {
  char key[32];
  std::snprintf(key, sizeof key, "%.17g", position.key);
  return base64url(listing + "\n" + key + "\n" + std::to_string(position.id) + "\n" +
                   position.text);
}

}  // namespace patternd::api
