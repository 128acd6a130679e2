#include "http/server.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/log.hpp"
#include "http/pacer.hpp"

namespace patternd::http {
namespace {

using Clock = std::chrono::steady_clock;

// One request's state: the full request target as sent (libmicrohttpd
// hands the handler a URL it has already percent-decoded: a %00 would cut it
// short), and the answer a worker made while the connection was suspended.
struct RequestState {
  std::string target;
  std::optional<Response> response;
  bool dispatched = false;
  std::shared_ptr<StreamState> stream;  // a streamed response's, once opened
};

void log_library_message(void*, const char* format, va_list args) {
  if (!log::enabled(log::Level::debug)) return;
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  std::string_view message(text);
  while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  log::debug("http", message);
}

// Queues `response` (its body in place) with the headers of `r`.
MHD_Result send_response(MHD_Connection* connection, MHD_Response* response, const Response& r) {
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, "Content-Type", r.content_type.c_str());
  MHD_add_response_header(response, "Cache-Control", "no-store");
  MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : r.headers)
    MHD_add_response_header(response, name.c_str(), value.c_str());
  const MHD_Result result =
      MHD_queue_response(connection, static_cast<unsigned>(r.status), response);
  MHD_destroy_response(response);
  return result;
}

MHD_Result queue(MHD_Connection* connection, const Response& r) {
  return send_response(connection,
                       MHD_create_response_from_buffer(
                           r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY),
                       r);
}

// A socket bound and listening on `listen`, so that a taken port is an error
// that says so (libmicrohttpd would only return NULL).
int listen_on(const std::string& listen, const std::string& setting, bool& ipv6) {
  const auto parts = split_host_port(listen);
  if (!parts) throw std::runtime_error(setting + ": \"" + listen + "\" is not host:port");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(parts->second);
  if (const int rc = getaddrinfo(parts->first.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw std::runtime_error("cannot listen on " + listen + " (" + setting +
                             "): " + gai_strerror(rc));
  int fd = -1;
  int saved_errno = 0;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      saved_errno = errno;
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      saved_errno = errno;
      ::close(fd);
      fd = -1;
      continue;
    }
    ipv6 = a->ai_family == AF_INET6;
  }
  freeaddrinfo(found);
  if (fd >= 0) return fd;
  if (saved_errno == EADDRINUSE)
    throw std::runtime_error("cannot listen on " + listen + ": the address is already in use; " +
                             "choose another " + setting + " (port 0 picks a free one)");
  throw std::runtime_error("cannot listen on " + listen + " (" + setting +
                           "): " + std::strerror(saved_errno));
}

int bound_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

}  // namespace

std::optional<std::string> Request::header(const char* name) const {
  auto* connection = static_cast<MHD_Connection*>(const_cast<void*>(m_connection));
  const char* value = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::optional<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return std::nullopt;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) return std::nullopt;
  return std::pair{std::string(host), static_cast<std::uint16_t>(port)};
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  const std::string text(host);
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

// A request handed to a worker: the connection stays suspended until the
// worker has put the response in `state` and resumed it. Or a task (making a
// streamed response's next pieces).
struct Job {
  MHD_Connection* connection = nullptr;
  RequestState* state = nullptr;
  std::string method;
  std::function<void()> task;
};

struct Server::Impl {
  Handler handler;
  Limits limits;
  MHD_Daemon* daemon = nullptr;

  // The worker pool.
  std::mutex jobs_mutex;
  std::condition_variable jobs_ready;
  std::deque<Job> jobs;
  bool stopping = false;
  std::vector<std::thread> workers;
  std::unique_ptr<Pacer> pacer;  // streamed responses

  // When each connection began waiting for a request's headers; the sweeper
  // closes those past limits.header_deadline_s.
  std::mutex waiting_mutex;
  std::map<MHD_Connection*, Clock::time_point> waiting;
  std::condition_variable sweeper_wake;
  bool sweeper_stop = false;
  std::thread sweeper;

  Response answer(const Job& job) {
    const std::string_view target = job.state->target;
    const auto mark = target.find('?');
    const Request request(
        job.method, target.substr(0, mark),
        mark == std::string_view::npos ? std::string_view() : target.substr(mark + 1),
        job.connection);
    try {
      return handler(request);
    } catch (const std::exception& e) {
      log::error("http", "request failed", {{"path", request.path()}, {"error", e.what()}});
      return Response{500, "application/json", "{\"error\": \"internal error\"}\n", {}, nullptr};
    }
  }

  void work() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(jobs_mutex);
        jobs_ready.wait(lock, [this] { return stopping || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      if (job.task) {
        job.task();
        continue;
      }
      job.state->response = answer(job);
      if (job.state->response->stream)
        job.state->stream = pacer->open(std::move(job.state->response->stream));
      // After this the state may be freed at any moment (the library
      // finishes the request on its own thread): not touched again.
      MHD_resume_connection(job.connection);
    }
  }

  void sweep() {
    std::unique_lock lock(waiting_mutex);
    while (!sweeper_stop) {
      sweeper_wake.wait_for(lock, std::chrono::milliseconds(250));
      const auto deadline = Clock::now() - std::chrono::seconds(limits.header_deadline_s);
      for (auto& [connection, since] : waiting) {
        if (since > deadline) continue;
        // Held under the mutex that the close notification takes, so the
        // descriptor is still this connection's.
        const MHD_ConnectionInfo* info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info != nullptr) ::shutdown(info->connect_fd, SHUT_RDWR);
        since = Clock::time_point::max();
      }
    }
  }

  void waiting_for_headers(MHD_Connection* connection, bool yes) {
    const std::lock_guard lock(waiting_mutex);
    if (yes)
      waiting[connection] = Clock::now();
    else if (auto it = waiting.find(connection); it != waiting.end())
      it->second = Clock::time_point::max();
  }

  static void on_connection(void* self, MHD_Connection* connection, void**,
                            MHD_ConnectionNotificationCode code) {
    auto& impl = *static_cast<Impl*>(self);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      impl.waiting_for_headers(connection, true);
    } else {
      const std::lock_guard lock(impl.waiting_mutex);
      impl.waiting.erase(connection);
    }
  }

  static void* on_request_line(void*, const char* uri, MHD_Connection*) {
    return new RequestState{uri, std::nullopt, false, nullptr};
  }

  // A task for the workers; dropped when the server stops (the streams it
  // would serve are ended).
  void submit(std::function<void()> task) {
    if (limits.workers == 0) return task();
    {
      const std::lock_guard lock(jobs_mutex);
      if (stopping) return;
      jobs.push_back(Job{nullptr, nullptr, {}, std::move(task)});
    }
    jobs_ready.notify_one();
  }

  MHD_Result respond(MHD_Connection* connection, RequestState& state) {
    const Response& r = *state.response;
    if (!state.stream) return queue(connection, r);
    return send_response(connection, pacer->response(connection, state.stream), r);
  }

  static void on_completed(void* self, MHD_Connection* connection, void** request_state,
                           MHD_RequestTerminationCode) {
    delete static_cast<RequestState*>(*request_state);
    *request_state = nullptr;
    // Kept alive: the deadline runs again for the next request's headers.
    static_cast<Impl*>(self)->waiting_for_headers(connection, true);
  }

  static MHD_Result access(void* self, MHD_Connection* connection, const char* url,
                           const char* method, const char*, const char*, size_t* upload_size,
                           void** request_state) {
    auto& impl = *static_cast<Impl*>(self);
    if (*request_state == nullptr)
      *request_state = new RequestState{url, std::nullopt, false, nullptr};
    auto& state = *static_cast<RequestState*>(*request_state);
    if (*upload_size != 0) {  // a body sent anyway: read and dropped
      *upload_size = 0;
      return MHD_YES;
    }
    if (state.response) return impl.respond(connection, state);
    if (state.dispatched) return MHD_YES;
    impl.waiting_for_headers(connection, false);
    const std::string_view name(method);
    if (name != MHD_HTTP_METHOD_GET && name != MHD_HTTP_METHOD_HEAD)
      return queue(connection, Response{405,
                                        "application/json",
                                        "{\"error\": \"method not allowed: GET or HEAD\"}\n",
                                        {{"Allow", "GET, HEAD"}},
                                        nullptr});
    const char* length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Content-Length");
    if ((length != nullptr && std::string_view(length) != "0") ||
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Transfer-Encoding") != nullptr)
      return queue(connection, Response{413,
                                        "application/json",
                                        "{\"error\": \"request bodies are not accepted\"}\n",
                                        {},
                                        nullptr});
    Job job{connection, &state, std::string(name), {}};
    if (impl.limits.workers == 0) {
      state.response = impl.answer(job);
      if (state.response->stream)
        state.stream = impl.pacer->open(std::move(state.response->stream));
      return impl.respond(connection, state);
    }
    {
      const std::lock_guard lock(impl.jobs_mutex);
      if (impl.stopping || impl.jobs.size() >= impl.limits.max_queued)
        return queue(connection, Response{503,
                                          "application/json",
                                          "{\"error\": \"busy: too many requests in progress\"}\n",
                                          {{"Retry-After", "1"}},
                                          nullptr});
      state.dispatched = true;
      MHD_suspend_connection(connection);
      impl.jobs.push_back(std::move(job));
    }
    impl.jobs_ready.notify_one();
    return MHD_YES;
  }
};

Server::Server(const std::string& listen, const std::string& setting, Handler handler,
               Limits limits)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->handler = std::move(handler);
  m_impl->limits = limits;
  m_impl->pacer = std::make_unique<Pacer>(
      [impl = m_impl.get()](std::function<void()> task) { impl->submit(std::move(task)); });
  bool ipv6 = false;
  const int fd = listen_on(listen, setting, ipv6);
  m_port = bound_port(fd);
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  if (ipv6) flags |= MHD_USE_IPv6;
  m_impl->daemon =
      MHD_start_daemon(flags, 0, nullptr, nullptr, &Impl::access, m_impl.get(),                //
                       MHD_OPTION_LISTEN_SOCKET, fd,                                           //
                       MHD_OPTION_THREAD_POOL_SIZE, limits.threads,                            //
                       MHD_OPTION_CONNECTION_LIMIT, limits.max_connections,                    //
                       MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits.max_connections_per_client,  //
                       MHD_OPTION_CONNECTION_TIMEOUT, limits.idle_timeout_s,                   //
                       MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits.max_request_bytes,           //
                       MHD_OPTION_URI_LOG_CALLBACK, &Impl::on_request_line, nullptr,           //
                       MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, m_impl.get(),         //
                       MHD_OPTION_NOTIFY_CONNECTION, &Impl::on_connection, m_impl.get(),       //
                       MHD_OPTION_EXTERNAL_LOGGER, &log_library_message, nullptr, MHD_OPTION_END);
  if (m_impl->daemon == nullptr) {
    ::close(fd);
    throw std::runtime_error("cannot serve HTTP on " + listen + " (" + setting + ")");
  }
  for (unsigned i = 0; i < limits.workers; ++i)
    m_impl->workers.emplace_back([impl = m_impl.get()] { impl->work(); });
  m_impl->sweeper = std::thread([impl = m_impl.get()] { impl->sweep(); });
}

// Streams end (their suspended connections resumed), workers finish what
// they hold and answer what is queued (a suspended connection must be
// resumed before the library stops), then the library stops, then the
// sweeper.
Server::~Server() {
  m_impl->pacer->stop();
  {
    const std::lock_guard lock(m_impl->jobs_mutex);
    m_impl->stopping = true;
  }
  m_impl->jobs_ready.notify_all();
  for (auto& worker : m_impl->workers) worker.join();
  if (m_impl->daemon != nullptr) MHD_stop_daemon(m_impl->daemon);
  {
    const std::lock_guard lock(m_impl->waiting_mutex);
    m_impl->sweeper_stop = true;
  }
  m_impl->sweeper_wake.notify_all();
  if (m_impl->sweeper.joinable()) m_impl->sweeper.join();
}

}  // namespace patternd::http
