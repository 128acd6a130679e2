#pragma once
// An HTTP/1.1 server for patternd's endpoints (metrics, the read API, the
// page), on GNU libmicrohttpd.
//
// Why libmicrohttpd: it reads requests with an event loop (epoll), so a
// client that trickles its headers or idles on a kept-alive connection
// holds a connection slot, never a thread: the 2-thread CivetWeb it
// replaces was blocked for 30 s by two such clients. It bounds what a
// request may cost (header memory, connections, an idle timeout) and can
// suspend a connection while its answer is made elsewhere (and later stream
// one), and Debian ships it.
//
// On top of it: a request must send its headers within a deadline (a
// client trickling one byte at a time would otherwise hold its slot
// forever), connections per client address are capped, and handlers that
// may be slow (database reads) run on a pool of worker threads, so that the
// event loops only move bytes: a slow query delays its own client only.
//
// Every endpoint is read-only: GET and HEAD are answered by the handler
// (HEAD without the body), any other method is 405 with `Allow: GET, HEAD`
// before the handler sees it. The handler gets the request target as the
// client sent it, undecoded: routing on raw paths means /metrics%00.txt is
// not /metrics.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace patternd::http {

class Request {
 public:
  Request(std::string_view method, std::string_view path, std::string_view query,
          const void* connection)
      : m_method(method), m_path(path), m_query(query), m_connection(connection) {}

  std::string_view method() const { return m_method; }
  // The path as sent ("/v1/patterns/test%3Apytest"), without the query.
  std::string_view path() const { return m_path; }
  // What follows '?', undecoded ("" when absent).
  std::string_view query() const { return m_query; }
  // A request header (case-insensitive name); nullopt when absent.
  std::optional<std::string> header(const char* name) const;

 private:
  std::string_view m_method, m_path, m_query;
  const void* m_connection;  // the library's connection
};

// A body made and sent over time (a session's replay), sent chunked. The
// server calls next() on a worker thread, one call at a time, and sends each
// piece once its pause has passed (counted from when the previous piece was
// due, so pauses do not drift), holding no thread while it waits. A client
// that goes away is noticed within a tenth of a second and its stream is
// dropped (the library cannot see a suspended connection close: the server
// polls those sockets itself).
class Stream {
 public:
  struct Piece {
    std::string bytes;
    std::chrono::microseconds pause{0};
  };
  virtual ~Stream() = default;
  // The next pieces, in order (a bounded number); none: the body is complete.
  // An exception ends the body early (the client sees the chunked body cut).
  virtual std::vector<Piece> next() = 0;
  // Bytes that may be sent at any point to keep a waiting connection open
  // through proxies (an SSE comment); empty: nothing is sent while waiting.
  virtual std::string keepalive() const { return {}; }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
  std::shared_ptr<Stream> stream;                            // when set, the body instead of `body`
};

using Handler = std::function<Response(const Request&)>;

struct Limits {
  // Threads each running an event loop over their share of the connections.
  unsigned threads = 2;
  // Threads running the handler, with a bounded queue in front (a full
  // queue answers 503). 0: the handler runs on the event loop (for cheap
  // handlers only).
  unsigned workers = 4;
  std::size_t max_queued = 256;
  unsigned max_connections = 512;
  unsigned max_connections_per_client = 128;
  // A connection that sends nothing (or receives nothing) for this long is
  // closed, whether it is mid-headers or idle between requests.
  unsigned idle_timeout_s = 15;
  // A request's line and headers must all have arrived this long after the
  // connection opened (or the previous response was sent); else it is closed.
  unsigned header_deadline_s = 10;
  // The request line and headers must fit (else 431/414); bodies are refused (413).
  std::size_t max_request_bytes = 32 * 1024;
};

class Server {
 public:
  // Listens on `listen` ("host:port", "[v6]:port"; port 0 takes a free
  // one). Throws std::runtime_error naming `setting` (the config key) and
  // the cause when it cannot.
  Server(const std::string& listen, const std::string& setting, Handler handler,
         Limits limits = {});
  ~Server();  // stops accepting, waits for the handlers running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return m_port; }

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  int m_port = 0;
};

// Splits "host:port" / "[v6]:port"; nullopt when it is neither.
std::optional<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view listen);
// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

}  // namespace patternd::http
