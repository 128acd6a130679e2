#include "api/api.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <chrono>

#include "api/openapi.hpp"
#include "api/resources.hpp"
#include "core/log.hpp"

namespace patternd::api {
namespace {

std::string dump(const Json& json) { return compact(json) + "\n"; }

std::string error_body(const std::string& message) { return dump(Json{{"error", message}}); }

std::array<unsigned char, SHA256_DIGEST_LENGTH> digest_of(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

}  // namespace

// A reader borrowed from the pool for one request, given back after it (a
// reader whose query failed is dropped: its connection may be broken).
class Api::Lease {
 public:
  Lease(Api& api, std::unique_ptr<store::Reader> reader)
      : m_api(api), m_reader(std::move(reader)) {}
  Lease(Lease&&) = default;
  ~Lease() {
    if (!m_reader) return;
    const std::lock_guard lock(m_api.m_mutex);
    m_api.m_idle.push_back(std::move(m_reader));
  }
  store::Reader& operator*() { return *m_reader; }
  void discard() { m_reader.reset(); }

 private:
  Api& m_api;
  std::unique_ptr<store::Reader> m_reader;
};

Api::Api(config::Api settings, OpenReader open)
    : m_settings(std::move(settings)), m_open(std::move(open)) {}

Api::~Api() = default;

Api::Lease Api::lease() {
  {
    const std::lock_guard lock(m_mutex);
    if (!m_idle.empty()) {
      auto reader = std::move(m_idle.back());
      m_idle.pop_back();
      return Lease(*this, std::move(reader));
    }
  }
  auto opened = m_open();
  if (!opened) throw store::Unavailable(opened.error().message);  // 503: try again later
  return Lease(*this, std::move(opened).value());
}

// A reader whose read failed is dropped (its connection may be broken): the
// next request opens another.
template <typename Read>
auto Api::with_reader(Read read) {
  auto reader = lease();
  try {
    return read(*reader);
  } catch (const store::ReadFailed&) {
    reader.discard();
    throw;
  }
}

// Every configured token is compared, each in constant time over a digest of
// fixed length, so neither the match nor a token's length shows in timing.
bool Api::authorized(const http::Request& request) const {
  if (m_settings.tokens.empty()) return true;
  const auto header = request.header("Authorization");
  if (!header || header->rfind("Bearer ", 0) != 0) return false;
  const auto given = digest_of(std::string_view(*header).substr(7));
  bool match = false;
  for (const auto& token : m_settings.tokens) {
    const auto expected = digest_of(token);
    match |= CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
  }
  return match;
}

http::Response Api::handle(const http::Request& request) {
  if (request.path() != "/v1/health" && !authorized(request))
    return http::Response{401,
                          "application/json",
                          error_body("missing or wrong bearer token (Authorization: Bearer ...)"),
                          {{"WWW-Authenticate", "Bearer"}},
                          nullptr};
  // /v1/sessions/{id}/replay: a stream, not one JSON document.
  const std::string_view path = request.path();
  if (path.rfind("/v1/sessions/", 0) == 0 && path.ends_with("/replay")) {
    std::vector<std::string> segments;
    const Answer refused = guarded(path, [&] {
      segments = path_segments(path.substr(4));
      return Answer{};
    });
    if (refused.status != 200)
      return http::Response{refused.status, "application/json", refused.body, {}, nullptr};
    if (segments.size() == 3 && !segments[1].empty()) return replay(request, segments[1]);
  }
  const Answer a = answer(path, request.query());
  return http::Response{a.status, "application/json", a.body, {}, nullptr};
}

std::unique_ptr<Replay> Api::replay(const std::string& session_id, std::string_view query) {
  ReplayOptions options = Replay::options(query);
  return std::make_unique<Replay>(
      [this](const std::function<void(store::Reader&)>& read) {
        with_reader([&](store::Reader& reader) { read(reader); });
      },
      session_id, std::move(options));
}

// SSE unless the client asks for NDJSON (Accept: application/x-ndjson).
http::Response Api::replay(const http::Request& request, const std::string& session_id) {
  std::unique_ptr<Replay> opened;
  const Answer refused = guarded(request.path(), [&] {
    opened = replay(session_id, request.query());
    return Answer{};
  });
  if (!opened) return http::Response{refused.status, "application/json", refused.body, {}, nullptr};
  const auto accept = request.header("Accept");
  const bool ndjson = accept && accept->find("application/x-ndjson") != std::string::npos;
  return http::Response{200,
                        ndjson ? "application/x-ndjson" : "text/event-stream; charset=utf-8",
                        "",
                        {{"X-Accel-Buffering", "no"}},
                        replay_stream(std::move(opened), ndjson)};
}

// Row counts take a scan of each table (SQLite keeps no count): done at most
// once per k_health_ttl, by the first request after it, not by every probe.
std::string Api::health(store::Reader& reader) {
  const std::lock_guard lock(m_health_mutex);
  const auto now = std::chrono::steady_clock::now();
  if (m_health_body.empty() || now - m_health_at > k_health_ttl) {
    const store::StoreHealth h = reader.health();
    Json rows = Json::object();
    for (const auto& [table, count] : h.rows) rows[table] = count;
    m_health_body = dump(Json{{"status", "ok"},
                              {"backend", reader.backend()},
                              {"database", h.location},
                              {"schema_version", h.schema_version},
                              {"rows", std::move(rows)},
                              {"database_size_bytes", h.size_bytes}});
    m_health_at = now;
  }
  return m_health_body;
}

template <typename Make>
Answer Api::guarded(std::string_view path, Make make) {
  try {
    return make();
  } catch (const BadRequest& e) {
    return {400, error_body(e.what())};
  } catch (const NotFound& e) {
    return {404, error_body(e.what())};
  } catch (const store::Unavailable& e) {
    log::warn("api", "read unavailable", {{"path", path}, {"error", e.what()}});
    return {503, error_body(e.what())};
  } catch (const std::exception& e) {
    log::error("api", "request failed", {{"path", path}, {"error", e.what()}});
    return {500, error_body("internal error (logged)")};
  }
}

Answer Api::answer(std::string_view path, std::string_view query) {
  if (path.rfind("/v1/", 0) != 0)
    return {404, error_body("no such endpoint: the read API is under /v1/ (see /v1/openapi.json)")};
  return guarded(path, [&]() -> Answer {
    const auto segments = path_segments(path.substr(4));
    if (segments.size() == 1 && segments[0] == "openapi.json") {
      Params(query, {});
      return {200, openapi_document()};
    }
    return with_reader([&](store::Reader& reader) -> Answer {
      if (segments.size() == 1 && segments[0] == "health") {
        Params(query, {});
        return {200, health(reader)};
      }
      return {200, dump(resource(reader, segments, query, m_on_lookup))};
    });
  });
}

}  // namespace patternd::api
