#include "kafka/dev_broker.hpp"

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace patternd::kafka {
namespace {

using core::Error;

// Copies bytes both ways between two sockets until either side closes.
void relay(int a, int b) {
  char buffer[64 * 1024];
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, 1000) < 0 && errno != EINTR) break;
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n <= 0) {
        closed = true;
        break;
      }
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t w = write(fds[1 - i].fd, buffer + sent, static_cast<std::size_t>(n - sent));
        if (w <= 0) {
          closed = true;
          break;
        }
        sent += w;
      }
    }
    if (closed) break;
  }
  close(a);
  close(b);
}

int connect_loopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void DevBroker::set_brokers_up(bool up) {
  for (int id = 1; id <= m_brokers; ++id) {  // the mock numbers its brokers from 1
    if (up)
      rd_kafka_mock_broker_set_up(m_cluster, id);
    else
      rd_kafka_mock_broker_set_down(m_cluster, id);
  }
}

void DevBroker::inject_request_errors() {
  // Kafka protocol API keys (not in librdkafka's public headers).
  constexpr std::int16_t k_fetch = 1, k_offset_commit = 8, k_heartbeat = 12;
  for (int i = 0; i < 10; ++i)
    rd_kafka_mock_push_request_errors(m_cluster, k_fetch, 1,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  for (int i = 0; i < 5; ++i)
    rd_kafka_mock_push_request_errors(m_cluster, k_offset_commit, 1,
                                      RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
  for (int i = 0; i < 3; ++i)
    rd_kafka_mock_push_request_errors(m_cluster, k_heartbeat, 1, RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
}

core::Result<std::unique_ptr<DevBroker>> DevBroker::make(const DevBrokerOptions& options) {
  std::unique_ptr<DevBroker> broker(new DevBroker());
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The mock cluster lives inside a client handle; this one only hosts it.
  // The hosting handle never connects anywhere: keep its warnings quiet.
  if (rd_kafka_conf_set(conf, "client.id", "patternd-dev-broker", error, sizeof error) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Error{std::string("dev-broker: ") + error};
  }
  broker->m_handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (broker->m_handle == nullptr) return Error{std::string("dev-broker: ") + error};
  broker->m_brokers = options.brokers;
  broker->m_cluster = rd_kafka_mock_cluster_new(broker->m_handle, options.brokers);
  if (broker->m_cluster == nullptr) return Error{"dev-broker: cannot create the mock cluster"};

  const int replication = options.brokers < 3 ? options.brokers : 3;
  for (const auto& topic : options.topics) {
    const rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(broker->m_cluster, topic.c_str(),
                                                               options.partitions, replication);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return Error{"dev-broker: cannot create topic " + topic + ": " + rd_kafka_err2str(err)};
  }

  const std::string brokers = rd_kafka_mock_cluster_bootstraps(broker->m_cluster);
  broker->m_bootstrap = brokers;
  if (options.port != 0) {
    const std::string first = brokers.substr(0, brokers.find(','));
    if (auto status = broker->start_forwarder(options.port, first); !status) return status.error();
    broker->m_bootstrap = "127.0.0.1:" + std::to_string(options.port);
  }
  return broker;
}

core::Status<> DevBroker::start_forwarder(int port, const std::string& target) {
  const int target_port = std::stoi(target.substr(target.rfind(':') + 1));
  m_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int yes = 1;
  setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(m_listen_fd, 64) != 0)
    return Error{"dev-broker: cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                 std::strerror(errno)};
  m_acceptor = std::thread([this, target_port] { accept_loop(target_port); });
  return {};
}

void DevBroker::accept_loop(int target_port) {
  while (!m_stopping) {
    pollfd pfd{m_listen_fd, POLLIN, 0};
    if (poll(&pfd, 1, 200) <= 0) continue;
    const int client = accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int upstream = connect_loopback(target_port);
    if (upstream < 0) {
      close(client);
      continue;
    }
    std::thread(relay, client, upstream).detach();
  }
}

DevBroker::~DevBroker() {
  m_stopping = true;
  if (m_acceptor.joinable()) m_acceptor.join();
  if (m_listen_fd >= 0) close(m_listen_fd);
  if (m_cluster != nullptr) rd_kafka_mock_cluster_destroy(m_cluster);
  if (m_handle != nullptr) rd_kafka_destroy(m_handle);
}

}  // namespace patternd::kafka
