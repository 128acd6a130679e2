#pragma once
// Text from events (agents' output, producers' payloads) on its way to a
// person's terminal, or into a URL.

#include <string>
#include <string_view>

namespace patternd::core {

// `text` with everything a terminal would act on made visible instead: C0
// controls and DEL as \xNN (\n, \r, \t as such), C1 controls and the Unicode
// bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
// U+2066-U+2069) and line/paragraph separators (U+2028, U+2029) as \uNNNN,
// and every byte that is not part of valid UTF-8 as \xNN. Everything else,
// printable UTF-8 included, passes unchanged. For table and text output only:
// JSON output escapes by its own rules.
std::string escape_for_terminal(std::string_view text);

// Strictly valid UTF-8: no overlong forms, surrogates or code points above
// U+10FFFF (what JSON output requires).
bool is_valid_utf8(std::string_view text);

// At most max bytes of valid UTF-8 text, cut before a character, not inside one.
std::string truncate_utf8(std::string_view text, std::size_t max);

// `text` as a URL's path segment or query value: letters, digits and -_.~:,
// as they are, every other byte %XX.
std::string percent_encode(std::string_view text);

}  // namespace patternd::core
