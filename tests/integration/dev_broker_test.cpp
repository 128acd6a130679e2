// `patternd dev-broker` over real TCP with a real librdkafka client.

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <csignal>
#include <memory>

#include "support/helpers.hpp"

namespace patternd {
namespace {

std::unique_ptr<RdKafka::Conf> client_conf(const std::string& bootstrap) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", bootstrap, error);
  return conf;
}

int partition_count(RdKafka::Handle& handle, const std::string& topic) {
  RdKafka::Metadata* raw = nullptr;
  if (handle.metadata(true, nullptr, &raw, 5000) != RdKafka::ERR_NO_ERROR) return -1;
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  for (const auto* t : *metadata->topics())
    if (t->topic() == topic) return static_cast<int>(t->partitions()->size());
  return 0;
}

TEST(DevBroker, ServesPreCreatedTopicsOverTcpOnTheChosenPortAndStopsOnSigterm) {
  // A port unlikely to be taken; the bootstrap line must name exactly it.
  const int port = 20000 + ::getpid() % 20000;
  testing::BackgroundProcess broker({"dev-broker", "--port", std::to_string(port), "--partitions",
                                     "3", "--topics", "alpha,beta"});
  const std::string bootstrap = broker.read_line(10000);
  ASSERT_EQ(bootstrap, "127.0.0.1:" + std::to_string(port));

  std::string error;
  auto conf = client_conf(bootstrap);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  EXPECT_EQ(partition_count(*producer, "alpha"), 3);
  EXPECT_EQ(partition_count(*producer, "beta"), 3);

  const std::string payload = R"({"hello": "agents"})";
  ASSERT_EQ(
      producer->produce("alpha", 1, RdKafka::Producer::RK_MSG_COPY,
                        const_cast<char*>(payload.data()), payload.size(), nullptr, 0, 0, nullptr),
      RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);

  auto consumer_conf = client_conf(bootstrap);
  consumer_conf->set("group.id", "dev-broker-test", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(consumer_conf.get(), error));
  ASSERT_TRUE(consumer) << error;
  std::vector<RdKafka::TopicPartition*> partitions = {
      RdKafka::TopicPartition::create("alpha", 1, 0)};
  ASSERT_EQ(consumer->assign(partitions), RdKafka::ERR_NO_ERROR);
  RdKafka::TopicPartition::destroy(partitions);
  std::string received;
  for (int i = 0; i < 100 && received.empty(); ++i) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(100));
    if (message->err() == RdKafka::ERR_NO_ERROR)
      received.assign(static_cast<const char*>(message->payload()), message->len());
  }
  EXPECT_EQ(received, payload);
  consumer->close();

  broker.signal(SIGTERM);
  EXPECT_EQ(broker.wait(10000), 0);
}

TEST(DevBroker, CreatesTheDefaultConfigsTopicsWhenNoneAreNamed) {
  testing::BackgroundProcess broker({"dev-broker", "--partitions", "2"});
  const std::string bootstrap = broker.read_line(10000);
  ASSERT_EQ(bootstrap.rfind("127.0.0.1:", 0), 0u) << bootstrap;
  std::string error;
  auto conf = client_conf(bootstrap);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  EXPECT_EQ(partition_count(*producer, "agent.workflows"), 2);
  EXPECT_EQ(partition_count(*producer, "agent.extractions"), 2);
  broker.signal(SIGINT);
  EXPECT_EQ(broker.wait(10000), 0);
}

}  // namespace
}  // namespace patternd
