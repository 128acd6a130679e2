// patternd_readload PORT RATE TARGET...: GETs the targets round-robin at RATE
// requests per second (one connection each, as most clients do) until
// SIGTERM or SIGINT, then prints one line per target:
//   target=/v1/... count=N errors=E p50_ms=X p99_ms=Y max_ms=Z
// A target written first:/v1/... is timed to the first byte of its body
// (then the client hangs up): a stream's start latency (a session replay).
// The read-load half of bench/drain's BENCH_READS scenario. Errors are
// statuses other than 200 and failed connections.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};

// The status of GET target, or -1. With `first_byte`, stops reading once the
// body has begun.
int get(int port, const std::string& target, bool first_byte) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  const std::string request =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return -1;
  }
  std::string response;
  char buffer[65536];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
    response.append(buffer, static_cast<std::size_t>(n));
    if (!first_byte) continue;
    const auto headers_end = response.find("\r\n\r\n");
    // Chunked: the first chunk's size line, then at least a byte of it.
    if (headers_end != std::string::npos &&
        response.find("\r\n", headers_end + 4) != std::string::npos &&
        response.size() > response.find("\r\n", headers_end + 4) + 2)
      break;
  }
  ::close(fd);
  return response.size() > 12 ? std::atoi(response.c_str() + 9) : -1;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: patternd_readload PORT RATE TARGET...\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const double rate = std::atof(argv[2]);
  const std::vector<std::string> targets(argv + 3, argv + argc);
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::vector<std::vector<double>> latencies(targets.size());
  std::vector<int> errors(targets.size());
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  auto next = Clock::now();
  for (std::size_t i = 0; !g_stop; i = (i + 1) % targets.size()) {
    std::this_thread::sleep_until(next);
    next += std::chrono::duration_cast<Clock::duration>(interval);
    const auto start = Clock::now();
    const bool first_byte = targets[i].rfind("first:", 0) == 0;
    const int status = get(port, targets[i].substr(first_byte ? 6 : 0), first_byte);
    latencies[i].push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    errors[i] += status != 200;
  }
  for (std::size_t i = 0; i < targets.size(); ++i)
    std::printf("target=%s count=%zu errors=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
                targets[i].c_str(), latencies[i].size(), errors[i], quantile(latencies[i], 0.5),
                quantile(latencies[i], 0.99), quantile(latencies[i], 1.0));
  return 0;
}
