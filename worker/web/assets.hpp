#pragma once
// The page of SPEC section 15: static HTML, CSS and JavaScript compiled into
// the binary (worker/web/*.html, *.css, *.js, embedded by
// cmake/embed_web.cmake), served on api.listen next to the read API it
// calls. The files hold no data, so they need no token: the page asks for
// one when /v1/ answers 401.

#include <optional>
#include <string_view>
#include <vector>

#include "http/server.hpp"

namespace patternd::web {

// The response to GET `path` (raw, as sent) when it names one of the page's
// files ("/" is index.html); nullopt for any other path.
std::optional<http::Response> asset(std::string_view path);

// One embedded file: its name in worker/web/ and its bytes.
struct EmbeddedFile {
  std::string_view name;
  std::string_view bytes;
};

// Every file of worker/web/ but the C++ ones (generated at build time).
extern const std::vector<EmbeddedFile> k_files;

}  // namespace patternd::web
