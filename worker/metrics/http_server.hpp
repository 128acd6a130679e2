#pragma once
// The worker's HTTP endpoints on metrics.listen (on http::Server):
//   GET /metrics  Prometheus text format
//   GET /healthz  200 while the process runs
//   GET /readyz   200 or 503, with a JSON body saying why

#include <functional>
#include <memory>
#include <string>

#include "http/server.hpp"

namespace patternd::metrics {

struct Readiness {
  bool ready = false;
  std::string json;  // the body of /readyz
};

struct Routes {
  std::function<std::string()> metrics;
  std::function<Readiness()> readiness;
};

class HttpServer {
 public:
  // Listens on `listen` ("host:port"; port 0 takes a free one). Throws
  // std::runtime_error naming the address when it cannot.
  HttpServer(const std::string& listen, Routes routes);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return m_server.port(); }

 private:
  http::Server m_server;
};

}  // namespace patternd::metrics
