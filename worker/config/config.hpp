#pragma once
// The configuration: plain structs with the defaults of SPEC section 5, a
// loader (YAML file, then PATTERND_* environment overrides) and a printer of
// the effective configuration. Every key is declared once, in config.cpp.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/types.hpp"

namespace patternd::config {

struct Kafka {
  std::string brokers = "127.0.0.1:9092";
  std::string group_id = "patternd";
  core::PerKind<std::string> topics = default_topics();  // kafka.topics.<kind name>
  std::string dead_letter_topic_suffix;
  std::map<std::string, std::string> properties;  // passed to librdkafka as-is

  const std::string& topic(core::TopicKind kind) const { return topics[core::index_of(kind)]; }
  // The stream a topic carries; nullopt for a topic this config does not consume.
  std::optional<core::TopicKind> kind_of(std::string_view topic) const {
    for (const auto& k : core::k_stream_kinds)
      if (topics[core::index_of(k.kind)] == topic) return k.kind;
    return std::nullopt;
  }

  static core::PerKind<std::string> default_topics() {
    core::PerKind<std::string> out;
    for (const auto& k : core::k_stream_kinds) out[core::index_of(k.kind)] = k.default_topic;
    return out;
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
  std::string type = "sqlite";            // sqlite|postgresql
  std::string path = "data/patternd.db";  // sqlite: the database file
  // postgresql: a libpq URI (postgresql://user:password@host:5432/db). It may
  // hold a password: print it only through mask_password (storage_uri.hpp).
  std::string uri;
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

struct Api {
  std::string listen = "127.0.0.1:8080";  // empty: no read API
  // Bearer tokens; when set, every request but GET /v1/health needs one.
  std::vector<std::string> tokens;
  bool allow_anonymous = false;  // permits a non-loopback listen without tokens
  // A read that takes longer is cut short (503): a long read holds back the
  // WAL checkpoint, and the writer's WAL grows while it runs.
  std::int64_t query_timeout_ms = 2000;
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
  Api api;
  Detection detection;
  Log log;
};

// A PATTERND_* variable that names no setting. Unlike an unknown key in the
// file it is not an error: the environment is not the operator's alone
// (wrapper scripts, CI systems, and Kubernetes service links for a Service
// named patternd-*, which are left out of this list altogether).
struct UnknownVariable {
  std::string name;
  std::string closest_known;  // the known variable it is likely a typo of, or empty
};

struct Loaded {
  Config config;
  std::vector<UnknownVariable> unknown_variables;  // in the order of the environment
};

// Loads `path` over the defaults, then applies PATTERND_* variables from
// `environ` (upper-case key path, dots to underscores: PATTERND_KAFKA_BROKERS).
// Errors name the file, the line, the key and what was expected; a known
// variable with a bad value is an error too. Unknown variables are returned
// for the caller to report, never printed here.
core::Result<Loaded> load(const std::string& path);
core::Result<Loaded> load(const std::string& path, char** environment);

// Applies PATTERND_* variables only (for commands that run without a file);
// returns the unknown ones.
core::Result<std::vector<UnknownVariable>> apply_environment(Config& config, char** environment);

// The effective configuration as YAML, secrets masked.
std::string to_yaml(const Config& config);

// True for property names whose values must never be printed or logged.
bool is_secret_property(const std::string& name);

}  // namespace patternd::config
