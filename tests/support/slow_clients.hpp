#pragma once
// Clients that open a connection and send their request headers one byte at
// a time, never finishing (the slowloris attack), while the test probes the
// server; the probes' worst latency says whether the trickle starved them.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace patternd::testing {

class SlowClients {
 public:
  // `count` connections to 127.0.0.1:port, each sending one byte of an
  // endless header every `interval`.
  SlowClients(int port, int count, std::chrono::milliseconds interval) {
    for (int i = 0; i < count; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<std::uint16_t>(port));
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0)
        m_fds.push_back(fd);
      else
        ::close(fd);
    }
    m_thread = std::thread([this, interval] {
      const std::string text = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      for (std::size_t i = 0; !m_stop; ++i) {
        const char byte = i < text.size() ? text[i] : 'a';
        for (const int fd : m_fds) ::send(fd, &byte, 1, MSG_NOSIGNAL);
        std::this_thread::sleep_for(interval);
      }
    });
  }
  ~SlowClients() {
    m_stop = true;
    m_thread.join();
    for (const int fd : m_fds) ::close(fd);
  }
  std::size_t connected() const { return m_fds.size(); }

 private:
  std::vector<int> m_fds;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

}  // namespace patternd::testing
