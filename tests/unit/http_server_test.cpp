// http::Server's own limits, with a handler of the test's: slow handlers
// run on workers and delay no one else, a full queue answers 503, headers
// have a deadline, bodies are refused, one client address gets a bounded
// number of connections.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "http/server.hpp"
#include "support/helpers.hpp"

namespace patternd::http {
namespace {

using namespace std::chrono;

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the server closed `fd` within `within` (a read sees the end).
bool closed_within(int fd, milliseconds within) {
  timeval timeout{static_cast<time_t>(within.count() / 1000),
                  static_cast<suseconds_t>(within.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char byte;
  return ::recv(fd, &byte, 1, 0) == 0;
}

Response slow_or_fast(const Request& request) {
  if (request.path() == "/slow") std::this_thread::sleep_for(milliseconds(800));
  return Response{200, "text/plain", std::string(request.path()) + "\n", {}, nullptr};
}

TEST(HttpServer, SlowHandlersRunOnWorkersAndDelayNoOtherRequest) {
  Limits limits;
  limits.threads = 1;  // one event loop for every connection
  limits.workers = 4;
  Server server("127.0.0.1:0", "test.listen", slow_or_fast, limits);
  std::vector<std::future<testing::HttpResponse>> slow;
  for (int i = 0; i < 3; ++i)
    slow.push_back(
        std::async(std::launch::async, [&] { return testing::http_get(server.port(), "/slow"); }));
  std::this_thread::sleep_for(milliseconds(100));
  const auto start = steady_clock::now();
  const auto fast = testing::http_get(server.port(), "/fast");
  EXPECT_LT(duration_cast<milliseconds>(steady_clock::now() - start).count(), 100);
  EXPECT_EQ(fast.status, 200);
  EXPECT_EQ(fast.body, "/fast\n");
  for (auto& s : slow) EXPECT_EQ(s.get().status, 200);
}

TEST(HttpServer, AFullQueueAnswers503AtOnce) {
  Limits limits;
  limits.workers = 1;
  limits.max_queued = 1;
  Server server("127.0.0.1:0", "test.listen", slow_or_fast, limits);
  auto busy =
      std::async(std::launch::async, [&] { return testing::http_get(server.port(), "/slow"); });
  std::this_thread::sleep_for(milliseconds(100));
  auto queued =
      std::async(std::launch::async, [&] { return testing::http_get(server.port(), "/slow"); });
  std::this_thread::sleep_for(milliseconds(100));
  const auto refused = testing::http_get(server.port(), "/fast");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.headers.count("retry-after"), 1u);
  EXPECT_EQ(busy.get().status, 200);
  EXPECT_EQ(queued.get().status, 200);
}

TEST(HttpServer, HeadersMustArriveBeforeTheDeadline) {
  Limits limits;
  limits.header_deadline_s = 2;
  Server server("127.0.0.1:0", "test.listen", slow_or_fast, limits);
  const int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  // One byte every 300 ms: never idle long enough for the idle timeout.
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    const std::string text = "GET /fast HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    for (std::size_t i = 0; !stop; ++i) {
      const char byte = i < text.size() ? text[i] : 'a';
      if (::send(fd, &byte, 1, MSG_NOSIGNAL) != 1) break;
      std::this_thread::sleep_for(milliseconds(300));
    }
  });
  const auto start = steady_clock::now();
  EXPECT_TRUE(closed_within(fd, milliseconds(5000)));
  const auto took = duration_cast<milliseconds>(steady_clock::now() - start).count();
  EXPECT_GE(took, 1500);
  EXPECT_LE(took, 3500);
  stop = true;
  trickle.join();
  ::close(fd);
  EXPECT_EQ(testing::http_get(server.port(), "/fast").status, 200);
}

TEST(HttpServer, RequestsWithABodyAre413) {
  Server server("127.0.0.1:0", "test.listen", slow_or_fast);
  const auto r =
      testing::http_get(server.port(), "/fast", {{"Content-Length", "5"}, {"X-Pad", "y"}});
  EXPECT_EQ(r.status, 413);
}

TEST(HttpServer, OneClientAddressGetsABoundedNumberOfConnections) {
  Limits limits;
  limits.max_connections_per_client = 4;
  Server server("127.0.0.1:0", "test.listen", slow_or_fast, limits);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(connect_to(server.port()));
  const int extra = connect_to(server.port());  // accepted by the kernel, closed by the server
  EXPECT_TRUE(closed_within(extra, milliseconds(2000)));
  ::close(extra);
  for (const int fd : held) ::close(fd);
  EXPECT_TRUE(testing::eventually(
      [&] { return testing::http_get(server.port(), "/fast").status == 200; }, 5));
}

}  // namespace
}  // namespace patternd::http
