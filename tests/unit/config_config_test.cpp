#include "config/config.hpp"

#include <gtest/gtest.h>

#include "support/helpers.hpp"

namespace patternd::config {
namespace {

char* k_no_environment[] = {nullptr};

core::Result<Config> load_text(const testing::TempDir& dir, const std::string& text,
                               char** environment = k_no_environment) {
  const std::string path = dir.file("c.yaml");
  testing::write_file(path, text);
  return load(path, environment);
}

TEST(ConfigConfig, AnEmptyFileGivesTheSpecDefaults) {
  testing::TempDir dir;
  auto c = load_text(dir, "");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->kafka.brokers, "127.0.0.1:9092");
  EXPECT_EQ(c->kafka.topic_workflows, "agent.workflows");
  // The SPEC's example says 5000; measured, 2000 meets its write latency
  // target at the same throughput (config.hpp, docs/operations.md).
  EXPECT_EQ(c->batch.max_messages, 2000);
  EXPECT_EQ(c->batch.max_wait_ms, 100);
  EXPECT_EQ(c->storage.path, "data/patternd.db");
  EXPECT_EQ(c->limits.max_message_bytes, 1048576);
  EXPECT_EQ(c->retention.days, 90);
  EXPECT_EQ(c->metrics.listen, "127.0.0.1:9464");
  EXPECT_EQ(c->log.format, "text");
}

TEST(ConfigConfig, TheShippedConfigIsValidAndEqualToTheDefaults) {
  auto c = load(testing::source_path("config/patternd.yaml"), k_no_environment);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(to_yaml(*c), to_yaml(Config{}));
}

TEST(ConfigConfig, UnknownKeysAreNamedWithTheirLine) {
  testing::TempDir dir;
  auto c = load_text(dir, "kafka:\n  brokers: a:1\n  batch_size: 5\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message,
            dir.file("c.yaml") +
                ":3: kafka.batch_size: unknown key (known keys under kafka: brokers, group_id, "
                "topics, dead_letter_topic_suffix, properties)");
  auto top = load_text(dir, "stroage:\n  path: x\n");
  ASSERT_FALSE(top.ok());
  EXPECT_NE(top.error().message.find(":1: stroage: unknown key"), std::string::npos);
}

TEST(ConfigConfig, ADuplicateKeyIsAnErrorNamingTheKeyAndBothLines) {
  testing::TempDir dir;
  auto c = load_text(dir, "kafka:\n  brokers: a:1\n  group_id: g\n  brokers: b:2\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message,
            dir.file("c.yaml") + ":4: kafka.brokers: duplicate key (also on line 2); keep one");
  auto across_sections =
      load_text(dir, "batch:\n  max_messages: 5\nstorage: {}\nbatch:\n  max_messages: 6\n");
  ASSERT_FALSE(across_sections.ok());
  EXPECT_NE(across_sections.error().message.find(
                ":5: batch.max_messages: duplicate key (also on line 2)"),
            std::string::npos)
      << across_sections.error().message;
  auto property =
      load_text(dir, "kafka:\n  properties:\n    sasl.username: a\n    sasl.username: b\n");
  ASSERT_FALSE(property.ok());
  EXPECT_NE(property.error().message.find(
                ":4: kafka.properties.sasl.username: duplicate key (also on line 3)"),
            std::string::npos)
      << property.error().message;
}

TEST(ConfigConfig, ASectionGivenAgainAddsItsKeys) {
  testing::TempDir dir;
  auto c = load_text(dir, "batch:\n  max_messages: 5\nstorage: {}\nbatch:\n  max_wait_ms: 7\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c.value().batch.max_messages, 5);
  EXPECT_EQ(c.value().batch.max_wait_ms, 7);
}

TEST(ConfigConfig, BadValuesNameFileLineKeyAndExpectation) {
  testing::TempDir dir;
  auto c = load_text(dir, "batch:\n  max_messages: 5000\n  max_wait_ms: soon\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(
      c.error().message,
      dir.file("c.yaml") + ":3: batch.max_wait_ms: expected an integer 1..60000, got \"soon\"");
  auto level = load_text(dir, "log:\n  level: loud\n");
  ASSERT_FALSE(level.ok());
  EXPECT_NE(level.error().message.find(":2: log.level: expected one of debug, info, warn, error"),
            std::string::npos);
  auto listen = load_text(dir, "metrics:\n  listen: localhost\n");
  ASSERT_FALSE(listen.ok());
  EXPECT_NE(listen.error().message.find("metrics.listen: expected host:port"), std::string::npos);
  auto mapping = load_text(dir, "storage:\n  path:\n    nested: 1\n");
  ASSERT_FALSE(mapping.ok());
  EXPECT_NE(mapping.error().message.find(
                ":3: storage.path: expected a non-empty file path, got a mapping"),
            std::string::npos);
}

TEST(ConfigConfig, InvalidYamlIsReportedWithItsLine) {
  testing::TempDir dir;
  auto c = load_text(dir, "kafka:\n  brokers: [unclosed\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("invalid YAML"), std::string::npos);
}

TEST(ConfigConfig, EnvironmentOverridesTheFile) {
  testing::TempDir dir;
  char brokers[] = "PATTERND_KAFKA_BROKERS=kafka:29092";
  char topic[] = "PATTERND_KAFKA_TOPICS_WORKFLOWS=wf";
  char batch[] = "PATTERND_BATCH_MAX_MESSAGES=20000";
  char password[] = "PATTERND_KAFKA_PROPERTIES_SASL_PASSWORD=hunter2";
  char other[] = "HOME=/root";
  char* environment[] = {brokers, topic, batch, password, other, nullptr};
  auto c = load_text(dir, "kafka:\n  brokers: file:9092\n", environment);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->kafka.brokers, "kafka:29092");
  EXPECT_EQ(c->kafka.topic_workflows, "wf");
  EXPECT_EQ(c->batch.max_messages, 20000);
  EXPECT_EQ(c->kafka.properties.at("sasl.password"), "hunter2");
}

TEST(ConfigConfig, BadOrUnknownEnvironmentVariablesAreErrors) {
  testing::TempDir dir;
  char bad[] = "PATTERND_BATCH_MAX_MESSAGES=lots";
  char* with_bad[] = {bad, nullptr};
  auto c = load_text(dir, "", with_bad);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message,
            "environment variable PATTERND_BATCH_MAX_MESSAGES (batch.max_messages): expected an "
            "integer 1..1000000, got \"lots\"");
  char typo[] = "PATTERND_KAFKA_BROKER=x:1";
  char* with_typo[] = {typo, nullptr};
  auto t = load_text(dir, "", with_typo);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("PATTERND_KAFKA_BROKER: unknown"), std::string::npos);
}

TEST(ConfigConfig, SecretsAreMaskedInTheEffectiveConfig) {
  Config c;
  c.kafka.properties["sasl.password"] = "hunter2";
  c.kafka.properties["security.protocol"] = "SASL_SSL";
  const std::string yaml = to_yaml(c);
  EXPECT_EQ(yaml.find("hunter2"), std::string::npos);
  EXPECT_NE(yaml.find("sasl.password: \"***\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("security.protocol: SASL_SSL"), std::string::npos);
}

TEST(ConfigConfig, TheEffectiveConfigLoadsBackToTheSameConfig) {
  testing::TempDir dir;
  Config c;
  c.kafka.brokers = "b:1";
  c.kafka.properties["client.id"] = "w1";
  c.retention.days = 7;
  auto back = load_text(dir, to_yaml(c));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(to_yaml(*back), to_yaml(c));
}

}  // namespace
}  // namespace patternd::config
