#pragma once
// The configuration: plain structs with the defaults of SPEC section 5, a
// loader (YAML file, then PATTERND_* environment overrides) and a printer of
// the effective configuration. Every key is declared once, in config.cpp.

#include <cstdint>
#include <map>
#include <string>

#include "core/result.hpp"
#include "core/types.hpp"

namespace patternd::config {

struct Kafka {
  std::string brokers = "127.0.0.1:9092";
  std::string group_id = "patternd";
  std::string topic_workflows = "agent.workflows";
  std::string topic_extractions = "agent.extractions";
  std::string dead_letter_topic_suffix;
  std::map<std::string, std::string> properties;  // passed to librdkafka as-is

  const std::string& topic(core::TopicKind kind) const {
    return kind == core::TopicKind::workflows ? topic_workflows : topic_extractions;
  }
};

struct Batch {
  // Measured (bench/, 500k drains): 2,000 keeps write latency p99 at 27-47 ms
  // for 111-125k msg/s; 5,000 drained at 116-130k but with p99 at 57-75 ms,
  // and no faster once 10M rows are stored (89-96k against 97-106k).
  std::int64_t max_messages = 2000;
  std::int64_t max_wait_ms = 100;
};

struct Storage {
  std::string path = "data/patternd.db";
  std::int64_t busy_timeout_ms = 5000;
};

struct Limits {
  std::int64_t max_message_bytes = 1048576;
};

struct Retention {
  std::int64_t days = 90;  // 0 keeps everything
};

struct Metrics {
  std::string listen = "127.0.0.1:9464";
};

struct Detection {
  std::string rules = "config/patterns.yaml";
};

struct Log {
  std::string level = "info";            // debug|info|warn|error
  std::string format = "text";           // text|json
  std::int64_t summary_interval_s = 10;  // one progress line per interval at info
};

struct Config {
  Kafka kafka;
  Batch batch;
  Storage storage;
  Limits limits;
  Retention retention;
  Metrics metrics;
  Detection detection;
  Log log;
};

// Loads `path` over the defaults, then applies PATTERND_* variables from
// `environ` (upper-case key path, dots to underscores: PATTERND_KAFKA_BROKERS).
// Errors name the file, the line, the key and what was expected.
core::Result<Config> load(const std::string& path);
core::Result<Config> load(const std::string& path, char** environment);

// Applies PATTERND_* variables only (for commands that run without a file).
core::Status<> apply_environment(Config& config, char** environment);

// The effective configuration as YAML, secrets masked.
std::string to_yaml(const Config& config);

// True for property names whose values must never be printed or logged.
bool is_secret_property(const std::string& name);

}  // namespace patternd::config
