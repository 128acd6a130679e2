#pragma once
// A synthetic fleet of producer agents: CI fixers, coding agents, deploy bots
// publishing finished workflows, events extracted from their output, the
// outcomes of the fixes they try on their failures, the lifecycle of their
// sessions and the prompts their prompt improver rewrites.
// Reproducible: the same options give the same messages, byte for byte.
// Events recur the way real fleets do (the same operations and failures again
// and again, over many sessions), with optional duplicates (a message sent
// again verbatim) and invalid messages of every kind the decoder rejects.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "core/types.hpp"
#include "fleet/dice.hpp"
#include "fleet/sessions.hpp"

namespace patternd::fleet {

// --kind: one stream, or all of them but prompts (43% workflows, 43%
// extractions, 9% outcomes, 5% sessions).
enum class Mix { workflows, extractions, outcomes, sessions, prompts, mixed };

// The approaches agents try on a failure (an outcome's `pattern`), each with
// the rate at which it truly works. The rates differ clearly on purpose: the
// read API ranks fixes by success rate, and tests check that what the fleet
// sends reproduces this order.
struct Approach {
  std::string_view name;
  double success_rate;
  std::int64_t typical_ms;  // how long an attempt takes, give or take half
  // What the agent did, filled in like the error templates ({w} a word, {f}
  // a file, {p} a package, {n} and {m} numbers).
  std::array<std::string_view, 2> fixes;
};

inline constexpr std::array<Approach, 5> k_approaches{{
    {"pin_dependency",
     0.85,
     9000,
     {"pin {p} to the version of the last green build in requirements.txt",
      "pin {p} in package-lock.json below the release that broke src/{f}.js"}},
    {"guard_null",
     0.75,
     4000,
     {"guard response.{w} before reading it in src/{f}.js",
      "return early when {w} is undefined in {f}.ts"}},
    {"revert_change",
     0.60,
     6000,
     {"revert the last commit touching src/{f}.py", "revert the {w} change from the last merge"}},
    {"increase_timeout",
     0.50,
     2500,
     {"raise the timeout to {m} s", "wait {m} s longer for the {w} service"}},
    {"retry_logic",
     0.30,
     800,
     {"retry the {w} call with exponential backoff", "retry the failing step after {m} s"}},
}};

// The backends the prompt improver calls (a prompt's `backend`), with their
// share of the prompts, their latency (median and spread of its logarithm)
// and confidence (mean and deviation); each has three models (k_prompt_models, in
// order), faster or slower and more or less sure of themselves. The profiles
// differ clearly on purpose (a local model answers in a few hundred
// milliseconds, less sure of itself): per-backend aggregates should show it.
struct PromptBackend {
  std::string_view name;
  std::uint64_t percent;
  double median_ms, spread, confidence, confidence_sd;
};
inline constexpr std::array<PromptBackend, 5> k_prompt_backends{
    {{"anthropic", 38, 2600, 0.45, 0.84, 0.07},
     {"openai", 30, 2200, 0.5, 0.80, 0.08},
     {"google", 14, 1900, 0.5, 0.77, 0.09},
     {"local-llama", 13, 300, 0.35, 0.62, 0.12},
     {"mistral", 5, 1500, 0.45, 0.74, 0.09}}};
struct PromptModel {
  std::string_view name;
  double speed;       // latency factor
  double confidence;  // added to the backend's mean
};
inline constexpr std::array<PromptModel, 3 * k_prompt_backends.size()> k_prompt_models{
    {{"claude-sonnet-4-5-20250929", 1.0, 0.0},
     {"claude-opus-4-1-20250805", 1.6, 0.04},
     {"claude-3-5-haiku-20241022", 0.45, -0.06},
     {"gpt-4.1-2025-04-14", 1.0, 0.0},
     {"gpt-4o-2024-11-20", 0.8, -0.02},
     {"o3-mini-2025-01-31", 1.9, 0.03},
     {"gemini-2.5-pro", 1.5, 0.03},
     {"gemini-2.5-flash", 0.6, -0.02},
     {"gemini-2.0-flash-001", 0.5, -0.05},
     {"llama-3.1-8b-instruct-q4_K_M", 1.0, 0.0},
     {"llama-3.2-3b-instruct-q8_0", 0.6, -0.07},
     {"qwen2.5-coder-7b-instruct-q5_K_M", 1.1, 0.04},
     {"mistral-large-2411", 1.2, 0.02},
     {"codestral-2501", 0.7, 0.0},
     {"mistral-small-2503", 0.5, -0.04}}};

struct Options {
  Mix mix = Mix::mixed;
  std::uint64_t count = 1000;
  std::uint64_t seed = 1;
  double duplicates = 0.0;  // fraction of messages that repeat an earlier one
  double invalid = 0.0;     // fraction of messages that are invalid
  core::TimestampMs start = 0;
  core::TimestampMs span_ms = 24LL * 3600 * 1000;  // event times spread over this
  // Prompts: the improved prompt's mean size in bytes (sizes spread from half
  // to one and a half times it); 0: 1 to 8 KB, most of them 2 to 5.
  double prompt_bytes = 0;
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
  static std::string_view agent_name(std::uint32_t agent);

  // `moment` is the message's place in the span, `time` that give or take a
  // second.
  std::string workflow(core::TimestampMs time, std::string& key);
  std::string extraction(core::TimestampMs moment, core::TimestampMs time, std::string& key);
  // In outcomes.cpp.
  std::string outcome(core::TimestampMs moment, core::TimestampMs time, std::string& key);
  // In sessions.cpp: the next lifecycle event of the fleet's sessions.
  std::string lifecycle(core::TimestampMs moment, std::string& key);
  // In prompts.cpp: an idea the prompt improver turned into a prompt.
  std::string prompt(core::TimestampMs moment, core::TimestampMs time, std::string& key);
  std::string invalid_message(core::TopicKind kind);
  std::string invalid_outcome(std::uint64_t which, const std::string& tag);  // in outcomes.cpp
  std::string invalid_session(std::uint64_t which, const std::string& tag);  // in sessions.cpp
  std::string invalid_prompt(std::uint64_t which, const std::string& tag);   // in prompts.cpp

  core::TopicKind next_kind(core::TimestampMs moment);
  // A recurring failure's text, with fresh details (paths, values, lines).
  std::string error_text();
  // text with {w}, {f}, {p}, {n} and {m} replaced by random words, files,
  // packages and numbers.
  std::string fill(std::string_view text);

  std::uint64_t below(std::uint64_t n) { return m_dice.below(n); }
  bool chance(double p) { return m_dice.chance(p); }
  std::string hex_id(std::size_t length) { return m_dice.hex_id(length); }

  Options m_options;
  Dice m_dice;
  SessionPlan m_sessions;
  std::uint64_t m_index = 0;
  std::vector<Message> m_recent;  // candidates for duplicates
};

}  // namespace patternd::fleet
