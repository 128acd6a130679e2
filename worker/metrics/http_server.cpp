#include "metrics/http_server.hpp"

#include <CivetServer.h>

#include <optional>
#include <stdexcept>
#include <vector>

namespace patternd::metrics {
namespace {

struct Response {
  int status = 200;
  const char* content_type = "text/plain";
  std::string body;
};

// HEAD gets GET's status and headers without the body (load balancers probe
// with it).
void send(mg_connection* connection, const Response& r, bool with_body) {
  mg_printf(connection,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            r.status, mg_get_response_code_text(connection, r.status), r.content_type,
            r.body.size());
  if (with_body) mg_write(connection, r.body.data(), r.body.size());
}

// Every request comes here: the path must be one of the routes exactly
// (case and all; the URL is not decoded, so /metrics%00.txt is no route),
// GET and HEAD are served, any other method is 405 with Allow.
class Router : public CivetHandler {
 public:
  explicit Router(std::function<std::optional<Response>(const std::string& path)> route)
      : m_route(std::move(route)) {}

  bool handleGet(CivetServer*, mg_connection* c) override { return answer(c, true); }
  bool handleHead(CivetServer*, mg_connection* c) override { return answer(c, false); }
  bool handlePost(CivetServer*, mg_connection* c) override { return refuse(c); }
  bool handlePut(CivetServer*, mg_connection* c) override { return refuse(c); }
  bool handleDelete(CivetServer*, mg_connection* c) override { return refuse(c); }
  bool handleOptions(CivetServer*, mg_connection* c) override { return refuse(c); }
  bool handlePatch(CivetServer*, mg_connection* c) override { return refuse(c); }

 private:
  bool answer(mg_connection* c, bool with_body) {
    const mg_request_info* request = mg_get_request_info(c);
    const std::string path = request->local_uri != nullptr ? request->local_uri : "";
    const std::optional<Response> response = m_route(path);
    send(c, response ? *response : Response{404, "text/plain", "not found\n"}, with_body);
    return true;
  }

  bool refuse(mg_connection* c) {
    const std::string body = "method not allowed: GET or HEAD\n";
    mg_printf(c,
              "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"
              "Content-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
              body.size());
    mg_write(c, body.data(), body.size());
    return true;
  }

  std::function<std::optional<Response>(const std::string&)> m_route;
};

}  // namespace

struct HttpServer::Impl {
  Impl(const std::string& listen, Routes routes_in)
      : routes(std::move(routes_in)),
        router([this](const std::string& path) { return route(path); }) {
    const std::vector<std::string> options = {"listening_ports",   listen, "num_threads", "2",
                                              "enable_keep_alive", "no",   "decode_url",  "no"};
    try {
      server = std::make_unique<CivetServer>(options);
    } catch (const CivetException&) {
      // CivetWeb's own text ("null context when constructing CivetServer")
      // hides the cause, which is nearly always a port already taken.
      throw std::runtime_error("cannot listen on " + listen +
                               ": the address is already in use (or not an address of this "
                               "machine); choose another metrics.listen (port 0 picks a free one)");
    }
    server->addHandler("/", router);
  }

  std::optional<Response> route(const std::string& path) const {
    if (path == "/metrics")
      return Response{200, "text/plain; version=0.0.4; charset=utf-8", routes.metrics()};
    if (path == "/healthz") return Response{200, "text/plain", "ok\n"};
    if (path == "/readyz") {
      const Readiness r = routes.readiness();
      return Response{r.ready ? 200 : 503, "application/json", r.json + "\n"};
    }
    return std::nullopt;
  }

  Routes routes;
  Router router;
  std::unique_ptr<CivetServer> server;  // last: stops before the router goes
};

HttpServer::HttpServer(const std::string& listen, Routes routes)
    : m_impl(std::make_unique<Impl>(listen, std::move(routes))) {
  const std::vector<int> ports = m_impl->server->getListeningPorts();
  if (!ports.empty()) m_port = ports.front();
}

HttpServer::~HttpServer() = default;

}  // namespace patternd::metrics
