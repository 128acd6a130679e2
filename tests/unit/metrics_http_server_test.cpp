// The worker's endpoints answer exactly their paths, HEAD as load balancers
// send it, and 405 with Allow for every other method.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "metrics/http_server.hpp"
#include "support/slow_clients.hpp"

namespace patternd::metrics {
namespace {

// One raw HTTP/1.1 request; the whole response as text.
std::string request(int port, const std::string& method, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  const std::string text = method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n" +
                           "Connection: close\r\n\r\n";
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) return "";
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
    response.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return response;
}

int status_of(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : -1;
}

class MetricsHttpServer : public ::testing::Test {
 protected:
  HttpServer m_server{"127.0.0.1:0",
                      {[] { return std::string("patternd_up 1\n"); },
                       [] {
                         return Readiness{false, R"({"ready":false})"};
                       }}};
};

TEST_F(MetricsHttpServer, GetServesEachEndpoint) {
  const std::string metrics = request(m_server.port(), "GET", "/metrics");
  EXPECT_EQ(status_of(metrics), 200) << metrics;
  EXPECT_NE(metrics.find("patternd_up 1"), std::string::npos);
  EXPECT_EQ(status_of(request(m_server.port(), "GET", "/healthz")), 200);
  EXPECT_EQ(status_of(request(m_server.port(), "GET", "/readyz")), 503);
}

TEST_F(MetricsHttpServer, HeadAnswersLikeGetWithoutTheBody) {
  const std::string head = request(m_server.port(), "HEAD", "/healthz");
  EXPECT_EQ(status_of(head), 200) << head;
  EXPECT_NE(head.find("Content-Length: 3"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "") << "no body after the headers";
  EXPECT_EQ(status_of(request(m_server.port(), "HEAD", "/readyz")), 503);
}

TEST_F(MetricsHttpServer, EveryOtherMethodIs405WithAllow) {
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    const std::string response = request(m_server.port(), method, "/metrics");
    EXPECT_EQ(status_of(response), 405) << method << "\n" << response;
    EXPECT_NE(response.find("Allow: GET, HEAD"), std::string::npos) << method;
  }
}

TEST_F(MetricsHttpServer, OnlyTheExactPathsServeAnything) {
  for (const char* path : {"/METRICS", "/metrics%00.txt", "/metrics/", "/metricsx", "/", "/x"}) {
    const std::string response = request(m_server.port(), "GET", path);
    EXPECT_EQ(status_of(response), 404) << path << "\n" << response;
    EXPECT_EQ(response.find("patternd_up"), std::string::npos) << path;
  }
}

// Issue 22, item 2: eight clients trickling headers for 30 s (the old
// 2-thread server answered nothing until they timed out). Every probe of
// every endpoint must still be answered, each in under 100 ms.
TEST_F(MetricsHttpServer, EightSlowClientsDoNotDelayAnyProbe) {
  using namespace std::chrono;
  const testing::SlowClients slow(m_server.port(), 8, milliseconds(500));
  ASSERT_EQ(slow.connected(), 8u);
  const auto end = steady_clock::now() + seconds(30);
  milliseconds worst{0};
  int probes = 0;
  while (steady_clock::now() < end) {
    for (const char* path : {"/metrics", "/healthz", "/readyz"}) {
      const auto start = steady_clock::now();
      const std::string response = request(m_server.port(), "GET", path);
      worst = std::max(worst, duration_cast<milliseconds>(steady_clock::now() - start));
      EXPECT_NE(status_of(response), -1) << path;
      ++probes;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_LT(worst.count(), 100) << "the slowest of " << probes << " probes";
  EXPECT_GT(probes, 300);
}

}  // namespace
}  // namespace patternd::metrics
