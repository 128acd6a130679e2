#pragma once
// A synthetic fleet of producer agents: CI fixers, coding agents, deploy bots
// publishing finished workflows and events extracted from their output.
// Reproducible: the same options give the same messages, byte for byte.
// Events recur the way real fleets do (the same operations and failures again
// and again, over many sessions), with optional duplicates (a message sent
// again verbatim) and invalid messages of every kind the decoder rejects.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "core/types.hpp"

namespace patternd::fleet {

enum class Mix { workflows, extractions, mixed };

struct Options {
  Mix mix = Mix::mixed;
  std::uint64_t count = 1000;
  std::uint64_t seed = 1;
  double duplicates = 0.0;  // fraction of messages that repeat an earlier one
  double invalid = 0.0;     // fraction of messages that are invalid
  core::TimestampMs start = 0;
  core::TimestampMs span_ms = 24LL * 3600 * 1000;  // event times spread over this
};

struct Message {
  core::TopicKind kind = core::TopicKind::workflows;
  std::string key;  // workflow_id or session_id: spreads load over partitions
  std::string payload;
  bool duplicate = false;
  bool invalid = false;
};

class Fleet {
 public:
  explicit Fleet(Options options);

  // False once `count` messages have been produced.
  bool next(Message& out);

  std::uint64_t produced() const { return m_index; }

 private:
  struct Session {
    std::string id;
    std::uint32_t agent;
  };

  std::string workflow(core::TimestampMs time, std::string& key);
  std::string extraction(core::TimestampMs time, std::string& key);
  std::string invalid_message(core::TopicKind kind);

  std::uint64_t below(std::uint64_t n) { return m_rng() % n; }
  bool chance(double p) { return static_cast<double>(m_rng() >> 11) * 0x1.0p-53 < p; }
  std::string hex_id(std::size_t length);

  Options m_options;
  std::mt19937_64 m_rng;
  std::uint64_t m_index = 0;
  std::vector<Session> m_sessions;
  std::vector<Message> m_recent;  // candidates for duplicates
};

}  // namespace patternd::fleet
