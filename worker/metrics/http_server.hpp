#pragma once
// The worker's HTTP endpoints on metrics.listen (CivetWeb):
//   GET /metrics  Prometheus text format
//   GET /healthz  200 while the process runs
//   GET /readyz   200 or 503, with a JSON body saying why

#include <functional>
#include <memory>
#include <string>

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
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return m_port; }

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  int m_port = 0;
};

}  // namespace patternd::metrics
