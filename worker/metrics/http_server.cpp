#include "metrics/http_server.hpp"

#include <CivetServer.h>

#include <stdexcept>
#include <vector>

namespace patternd::metrics {
namespace {

void respond(mg_connection* connection, int status, const char* content_type,
             const std::string& body) {
  mg_printf(connection,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, mg_get_response_code_text(connection, status), content_type, body.size());
  mg_write(connection, body.data(), body.size());
}

class Handler : public CivetHandler {
 public:
  explicit Handler(std::function<void(mg_connection*)> get) : m_get(std::move(get)) {}
  bool handleGet(CivetServer*, mg_connection* connection) override {
    m_get(connection);
    return true;
  }

 private:
  std::function<void(mg_connection*)> m_get;
};

}  // namespace

struct HttpServer::Impl {
  Impl(const std::string& listen, Routes routes)
      : routes(std::move(routes)),
        metrics([this](mg_connection* c) {
          respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", this->routes.metrics());
        }),
        healthz([](mg_connection* c) { respond(c, 200, "text/plain", "ok\n"); }),
        readyz([this](mg_connection* c) {
          const Readiness r = this->routes.readiness();
          respond(c, r.ready ? 200 : 503, "application/json", r.json + "\n");
        }) {
    const std::vector<std::string> options = {"listening_ports",   listen, "num_threads", "2",
                                              "enable_keep_alive", "no"};
    try {
      server = std::make_unique<CivetServer>(options);
    } catch (const CivetException&) {
      // CivetWeb's own text ("null context when constructing CivetServer")
      // hides the cause, which is nearly always a port already taken.
      throw std::runtime_error("cannot listen on " + listen +
                               ": the address is already in use (or not an address of this "
                               "machine); choose another metrics.listen (port 0 picks a free one)");
    }
    server->addHandler("/metrics", metrics);
    server->addHandler("/healthz", healthz);
    server->addHandler("/readyz", readyz);
  }

  Routes routes;
  Handler metrics, healthz, readyz;
  std::unique_ptr<CivetServer> server;  // last: stops before the handlers go
};

HttpServer::HttpServer(const std::string& listen, Routes routes)
    : m_impl(std::make_unique<Impl>(listen, std::move(routes))) {
  const std::vector<int> ports = m_impl->server->getListeningPorts();
  if (!ports.empty()) m_port = ports.front();
}

HttpServer::~HttpServer() = default;

}  // namespace patternd::metrics
