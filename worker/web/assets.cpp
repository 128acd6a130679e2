#include "web/assets.hpp"

#include <string>

namespace patternd::web {
namespace {

// No inline script or style anywhere, so the policy can forbid both: data
// shown by the page (event text, prompts) can never run as code.
constexpr const char* k_content_security_policy =
    "default-src 'self'; connect-src 'self'; img-src 'self' data:";

std::string content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  return "application/octet-stream";
}

const EmbeddedFile* find(std::string_view name) {
  for (const auto& file : k_files)
    if (file.name == name) return &file;
  return nullptr;
}

}  // namespace

std::optional<http::Response> asset(std::string_view path) {
  if (!path.starts_with('/')) return std::nullopt;
  const std::string_view name = path == "/" ? "index.html" : path.substr(1);
  const EmbeddedFile* file = find(name);
  if (!file) return std::nullopt;
  // The server adds X-Content-Type-Options: nosniff and Cache-Control:
  // no-store to every answer (so a new binary's page is never stale).
  return http::Response{200,
                        content_type(file->name),
                        std::string(file->bytes),
                        {{"Content-Security-Policy", k_content_security_policy}},
                        nullptr};
}

}  // namespace patternd::web
