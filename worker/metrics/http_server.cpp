#include "metrics/http_server.hpp"

namespace patternd::metrics {
namespace {

// The path must be one of the routes exactly (case and all; it is not
// decoded, so /metrics%00.txt is no route). Probes are cheap: they are
// answered on the event loop itself, which slow clients cannot hold.
http::Response route(const Routes& routes, const http::Request& request) {
  const std::string_view path = request.path();
  if (path == "/metrics")
    return {200, "text/plain; version=0.0.4; charset=utf-8", routes.metrics(), {}, nullptr};
  if (path == "/healthz") return {200, "text/plain", "ok\n", {}, nullptr};
  if (path == "/readyz") {
    const Readiness r = routes.readiness();
    return {r.ready ? 200 : 503, "application/json", r.json + "\n", {}, nullptr};
  }
  return {404, "text/plain", "not found\n", {}, nullptr};
}

http::Limits probe_limits() {
  http::Limits limits;
  limits.threads = 2;
  limits.workers = 0;
  limits.max_connections = 256;
  limits.max_connections_per_client = 64;
  return limits;
}

}  // namespace

HttpServer::HttpServer(const std::string& listen, Routes routes)
    : m_server(
          listen, "metrics.listen",
          [routes = std::move(routes)](const http::Request& r) { return route(routes, r); },
          probe_limits()) {}

}  // namespace patternd::metrics
