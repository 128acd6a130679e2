#include "detect/failure.hpp"

namespace patternd::detect {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_word(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }

// Characters that may open a token (a path, a UUID, a hex value) after them.
bool is_boundary(char c) {
  return is_space(c) || c == '(' || c == '[' || c == '{' || c == '=' || c == ',' || c == '<' ||
         c == ':' || c == ';';
}

// Characters that end a path: whitespace, closing brackets and quotes.
bool ends_path(char c) {
  return is_space(c) || c == ')' || c == ']' || c == '}' || c == ',' || c == ';' || c == '"' ||
         c == '\'' || c == '`' || c == '>';
}

bool matches_uuid(std::string_view s, std::size_t i) {
  static constexpr std::size_t k_groups[] = {8, 4, 4, 4, 12};
  std::size_t pos = i;
  for (std::size_t g = 0; g < 5; ++g) {
    for (std::size_t k = 0; k < k_groups[g]; ++k, ++pos)
      if (pos >= s.size() || !is_hex(s[pos])) return false;
    if (g < 4) {
      if (pos >= s.size() || s[pos] != '-') return false;
      ++pos;
    }
  }
  return pos == s.size() || !is_word(s[pos]);
}

// A path starts with '/', '~/', './', '../' or a drive letter, or is a word
// holding a '/' (src/app.ts:3). Returns its end, or `i` when there is none.
std::size_t path_end(std::string_view s, std::size_t i) {
  std::size_t end = i;
  while (end < s.size() && !ends_path(s[end])) ++end;
  const std::string_view word = s.substr(i, end - i);
  const bool rooted = word.size() > 1 && (word[0] == '/' || word.starts_with("~/") ||
                                          word.starts_with("./") || word.starts_with("../"));
  const bool drive =
      word.size() > 3 && is_alpha(word[0]) && word[1] == ':' && (word[2] == '\\' || word[2] == '/');
  const bool relative = word.find('/') != std::string_view::npos && is_word(word[0]) &&
                        word.find("://") == std::string_view::npos;
  const bool url = word.find("://") != std::string_view::npos;
  if (!(rooted || drive || relative || url)) return i;
  // A trailing colon or period belongs to the sentence, not the path.
  while (end > i + 1 && (s[end - 1] == ':' || s[end - 1] == '.')) --end;
  return end;
}

}  // namespace

std::string normalize_failure(std::string_view s) {
  std::string out;
  out.reserve(s.size() < k_max_signature_bytes ? s.size() : k_max_signature_bytes);
  std::size_t i = 0;
  while (i < s.size() && out.size() < k_max_signature_bytes + 8) {
    const char c = s[i];
    const bool at_start = i == 0 || is_boundary(s[i - 1]);

    if (is_space(c)) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      ++i;
      continue;
    }
    // Quoted strings; an apostrophe inside a word ("can't") is not a quote.
    if ((c == '"' || c == '`' || (c == '\'' && (i == 0 || !is_word(s[i - 1]))))) {
      std::size_t j = i + 1;
      while (j < s.size() && s[j] != c) j += (s[j] == '\\') ? 2 : 1;
      if (j < s.size()) {
        out += "<str>";
        i = j + 1;
        continue;
      }
    }
    if (at_start) {
      if (is_hex(c) && matches_uuid(s, i)) {
        out += "<uuid>";
        i += 36;
        continue;
      }
      if (const std::size_t end = path_end(s, i); end > i) {
        out += "<path>";
        i = end;
        continue;
      }
    }
    if (c == '0' && i + 2 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X') && is_hex(s[i + 2]) &&
        (i == 0 || !is_word(s[i - 1]))) {
      i += 2;
      while (i < s.size() && is_hex(s[i])) ++i;
      out += "<hex>";
      continue;
    }
    if (is_hex(c) && (i == 0 || !is_word(s[i - 1]))) {
      // A run of 8+ hex digits with at least one digit: a hash, an address.
      std::size_t j = i;
      bool has_digit = false, has_letter = false;
      while (j < s.size() && is_hex(s[j])) {
        has_digit |= is_digit(s[j]);
        has_letter |= !is_digit(s[j]);
        ++j;
      }
      if (j - i >= 8 && has_digit && has_letter && (j == s.size() || !is_word(s[j]))) {
        out += "<hex>";
        i = j;
        continue;
      }
    }
    // Numbers not glued to a name: "line 42" -> "line <n>", "1.5s" -> "<n>s".
    if (is_digit(c) && (i == 0 || !is_word(s[i - 1]))) {
      while (i < s.size() && is_digit(s[i])) ++i;
      while (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
        ++i;
        while (i < s.size() && is_digit(s[i])) ++i;
      }
      out += "<n>";
      continue;
    }
    // Any other word is copied whole, digits included: error codes such as
    // "E0308" and "TS2322" are what tells one failure from another.
    if (is_word(c)) {
      while (i < s.size() && is_word(s[i])) out.push_back(s[i++]);
      continue;
    }
    out.push_back(c);
    ++i;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > k_max_signature_bytes) {
    std::size_t cut = k_max_signature_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

std::string failure_type(std::string_view signature) {
  std::size_t end = 0;
  while (end < signature.size() && end < 64 &&
         (is_word(signature[end]) || signature[end] == '.' || signature[end] == '[' ||
          signature[end] == ']' || signature[end] == '<' || signature[end] == '>' ||
          signature[end] == '$'))
    ++end;
  if (end > 0 && end < signature.size() && signature[end] == ':')
    return std::string(signature.substr(0, end));

  std::size_t i = 0;
  while (i < signature.size()) {
    while (i < signature.size() && !is_word(signature[i])) ++i;
    std::size_t j = i;
    while (j < signature.size() && (is_word(signature[j]) || signature[j] == '.')) ++j;
    const std::string_view word = signature.substr(i, j - i);
    if (word.ends_with("Error") || word.ends_with("Exception")) return std::string(word);
    i = j;
  }
  return "error";
}

}  // namespace patternd::detect
