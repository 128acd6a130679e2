// `patternd dev-broker`: a local Kafka-protocol broker (librdkafka's mock
// cluster) until SIGTERM or SIGINT.

#include <csignal>
#include <iostream>
#include <sstream>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "app/signals.hpp"
#include "kafka/dev_broker.hpp"

namespace patternd::app {
namespace {

struct DevBrokerCommand {
  kafka::DevBrokerOptions options;
  std::string topics;
};

int dev_broker(DevBrokerCommand& command) {
  // Signals are taken synchronously by sigwait below, not by handlers.
  sigset_t signals = block_termination_signals();
  sigset_t outage;
  sigemptyset(&outage);
  sigaddset(&outage, SIGUSR1);
  sigaddset(&outage, SIGUSR2);
  sigaddset(&outage, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &outage, nullptr);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGUSR2);
  sigaddset(&signals, SIGHUP);

  if (command.topics.empty()) {
    const config::Config defaults;
    command.options.topics.assign(defaults.kafka.topics.begin(), defaults.kafka.topics.end());
  } else {
    std::stringstream list(command.topics);
    for (std::string topic; std::getline(list, topic, ',');)
      if (!topic.empty()) command.options.topics.push_back(topic);
  }
  auto broker = kafka::DevBroker::make(command.options);
  if (!broker) throw std::runtime_error(broker.error().message);

  std::cout << (*broker)->bootstrap() << std::endl;  // the first line: what tests read
  std::cerr << "dev-broker: " << command.options.brokers << " broker(s), topics";
  for (const auto& topic : command.options.topics) std::cerr << " " << topic;
  std::cerr << " with " << command.options.partitions
            << " partitions each; about 5 MiB kept per partition (older data is dropped); "
               "stop with SIGTERM or Ctrl-C; SIGUSR1 takes the brokers down, SIGUSR2 brings "
               "them back, SIGHUP answers the next requests with errors\n";
  for (;;) {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == SIGHUP) {
      (*broker)->inject_request_errors();
      std::cerr << "dev-broker: the next fetches, offset commits and heartbeats fail\n";
      continue;
    }
    if (signal != SIGUSR1 && signal != SIGUSR2) break;
    (*broker)->set_brokers_up(signal == SIGUSR2);
    std::cerr << (signal == SIGUSR2 ? "dev-broker: brokers up\n"
                                    : "dev-broker: brokers down (connections refused)\n");
  }
  std::cerr << "dev-broker: stopping\n";
  return 0;
}

}  // namespace

void add_dev_broker(CLI::App& app, Action& run) {
  auto command = std::make_shared<DevBrokerCommand>();
  auto* cmd = app.add_subcommand(
      "dev-broker",
      "A local Kafka-protocol broker for development and tests (librdkafka's mock cluster, in "
      "memory). Prints its bootstrap address (127.0.0.1:PORT) as the first line on stdout and "
      "runs until SIGTERM (SIGUSR1/SIGUSR2 take the brokers down/up, to rehearse an outage; "
      "SIGHUP makes the next fetches, offset commits and heartbeats fail). "
      "Each partition keeps only about 5 MiB; older messages are dropped "
      "silently, so use enough partitions for the backlog you need (64 x 5 MiB = 320 MiB per "
      "topic by default).");
  cmd->add_option("--port", command->options.port,
                  "bootstrap port on 127.0.0.1 (default: one the system picks)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--partitions", command->options.partitions, "partitions per topic")
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--brokers", command->options.brokers, "number of brokers")
      ->check(CLI::Range(1, 16));
  cmd->add_option("--topics", command->topics,
                  "comma-separated topics to create (default: agent.workflows,agent.extractions)");
  cmd->callback([&run, command] { run = [command] { return dev_broker(*command); }; });
}

}  // namespace patternd::app
