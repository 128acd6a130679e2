#include <gtest/gtest.h>

#include <string>

#include "core/text.hpp"

namespace patternd::core {
namespace {

struct Case {
  const char* what;
  std::string in;
  std::string out;
};

TEST(CoreText, EscapeForTerminalShowsEveryControlAndPassesPrintableTextUnchanged) {
  const Case cases[] = {
      {"plain ASCII", "TypeError: x is undefined", "TypeError: x is undefined"},
      {"printable UTF-8", "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80",
       "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"},
      {"an ANSI colour sequence", "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"},
      {"a terminal title (OSC ... BEL)", "\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"},
      {"NUL and DEL", std::string("a\0b\x7f", 4), "a\\x00b\\x7f"},
      {"line breaks and tabs", "a\nb\rc\td", "a\\nb\\rc\\td"},
      {"backspace", "abc\b\b\bxyz", "abc\\x08\\x08\\x08xyz"},
      {"a C1 control (CSI, U+009B)",
       "\xc2\x9b"
       "31m",
       "\\u009b31m"},
      {"NEL (U+0085)",
       "a\xc2\x85"
       "b",
       "a\\u0085b"},
      {"right-to-left override (U+202E)", "evil\xe2\x80\xaetxt.exe", "evil\\u202etxt.exe"},
      {"left-to-right embedding (U+202A)", "\xe2\x80\xaa", "\\u202a"},
      {"pop directional formatting (U+202C)", "\xe2\x80\xac", "\\u202c"},
      {"left-to-right isolate (U+2066)", "\xe2\x81\xa6", "\\u2066"},
      {"pop directional isolate (U+2069)", "\xe2\x81\xa9", "\\u2069"},
      {"right-to-left mark (U+200F)", "\xe2\x80\x8f", "\\u200f"},
      {"line separator (U+2028)", "\xe2\x80\xa8", "\\u2028"},
      {"the character before the bidi block (U+2029 is escaped, U+2030 is not)", "\xe2\x80\xb0",
       "\xe2\x80\xb0"},
      {"a lone continuation byte",
       "a\x80"
       "b",
       "a\\x80b"},
      {"a truncated sequence at the end", "a\xe2\x80", "a\\xe2\\x80"},
      {"an overlong encoding of '/'", "\xc0\xaf", "\\xc0\\xaf"},
      {"an overlong encoding of ESC", "\xc0\x9b", "\\xc0\\x9b"},
      {"a UTF-16 surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80"},
      {"above U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
      {"a byte that never starts UTF-8", "\xff", "\\xff"},
      {"empty", "", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(escape_for_terminal(c.in), c.out) << c.what;
}

}  // namespace
}  // namespace patternd::core
