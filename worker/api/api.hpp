#pragma once
// The read API of SPEC section 13: routes a GET to its resource, checks the
// bearer token, answers JSON. Reads go through a small pool of store
// Readers, each its own read-only connection, opened on first use (so
// `serve` may start before the worker created the database).
//
// `patternd query` asks answer() directly: the same JSON as over HTTP.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/replay.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "store/reader.hpp"

namespace patternd::api {

struct Answer {
  int status = 200;
  std::string body;  // JSON
};

class Api {
 public:
  using OpenReader =
      std::function<core::Result<std::unique_ptr<store::Reader>, store::OpenError>()>;

  Api(config::Api settings, OpenReader open);
  ~Api();

  // An HTTP request: the token (unless the path is /v1/health), then answer().
  http::Response handle(const http::Request& request);

  // The answer to GET `path`?`query` (both raw, as sent), without auth.
  Answer answer(std::string_view path, std::string_view query);

  // The replay of a session (GET /v1/sessions/{id}/replay?`query`), without
  // auth; throws BadRequest, NotFound, store::Unavailable.
  std::unique_ptr<Replay> replay(const std::string& session_id, std::string_view query);

  // Called (from the request's thread) for each error lookup answered:
  // whether the error had been seen. Set before serving.
  void on_lookup(std::function<void(bool seen)> observer) { m_on_lookup = std::move(observer); }

 private:
  class Lease;
  Lease lease();
  bool authorized(const http::Request& request) const;
  std::string health(store::Reader& reader);
  http::Response replay(const http::Request& request, const std::string& session_id);
  // Runs `read` with a reader borrowed from the pool.
  template <typename Read>
  auto with_reader(Read read);
  // Runs `make`, answering its exceptions as errors (400, 404, 503, 500).
  template <typename Make>
  Answer guarded(std::string_view path, Make make);

  static constexpr std::chrono::seconds k_health_ttl{15};

  config::Api m_settings;
  OpenReader m_open;
  std::function<void(bool seen)> m_on_lookup;
  std::mutex m_mutex;
  std::vector<std::unique_ptr<store::Reader>> m_idle;  // readers not in use
  std::mutex m_health_mutex;
  std::string m_health_body;  // the last /v1/health, and when it was made
  std::chrono::steady_clock::time_point m_health_at;
};

}  // namespace patternd::api
