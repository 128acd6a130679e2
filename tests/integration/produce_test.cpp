// `patternd produce`: the synthetic fleet to Kafka and to files.

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>

#include "core/event.hpp"
#include "core/time.hpp"
#include "decode/decoder.hpp"
#include "detect/failure.hpp"
#include "fleet/fleet.hpp"
#include "support/helpers.hpp"

namespace patternd {
namespace {

using nlohmann::json;
using testing::partition_sizes;

// The fleet's messages of one kind, from a file; `summary` gets produce's
// summary line.
std::vector<std::string> produce_lines(const std::string& kind, int count, int seed,
                                       const std::vector<std::string>& extra = {},
                                       std::string* summary = nullptr) {
  testing::TempDir dir;
  std::vector<std::string> args = {"produce",
                                   "--kind",
                                   kind,
                                   "--count",
                                   std::to_string(count),
                                   "--seed",
                                   std::to_string(seed),
                                   "--start",
                                   "2026-11-01T00:00:00Z",
                                   "--output",
                                   dir.file("out.jsonl")};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = testing::run_patternd(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (summary) *summary = r.err;
  return testing::read_lines(dir.file("out.jsonl"));
}

std::uint64_t summary_count(const std::string& summary, const std::string& what) {
  std::smatch m;
  if (!std::regex_search(summary, m, std::regex("([0-9,]+) " + what))) return 0;
  std::string digits = m[1];
  std::erase(digits, ',');
  return std::stoull(digits);
}

// A session's life as its lifecycle events tell it.
struct Life {
  core::TimestampMs started = 0;
  std::optional<core::TimestampMs> ended;  // its terminal event's time
  core::SessionState last = core::SessionState::started;
  std::string agent;
};

// Checks that every session's story is told in order: `started` first and
// once, a terminal event (if any) last and once, `paused` followed by
// `running`, lines_processed never decreasing, exit codes as the terminal
// state says, the details of `started` all there. Invalid messages and
// repeated ones are skipped.
std::map<std::string, Life> check_lifecycles(const std::vector<std::string>& payloads) {
  using core::SessionState;
  decode::Decoder decoder(1 << 20);
  std::set<std::string> seen;
  std::map<std::string, std::vector<core::SessionEvent>> told;
  for (const auto& payload : payloads) {
    if (!seen.insert(payload).second) continue;
    auto decoded = decoder.decode_session(payload, 0);
    if (decoded) told[decoded.value().session_id].push_back(std::move(decoded.value()));
  }
  std::map<std::string, Life> lives;
  for (auto& [id, events] : told) {
    EXPECT_TRUE(std::ranges::is_sorted(events, {}, &core::SessionEvent::timestamp)) << id;
    Life& life = lives[id];
    const auto& first = events.front();
    life.agent = first.agent_name;
    EXPECT_EQ(first.state, SessionState::started) << id;
    EXPECT_TRUE((std::set<std::string>{"ci", "dev", "staging"}.contains(first.environment))) << id;
    EXPECT_FALSE(first.extraction_config_version.empty()) << id;
    EXPECT_FALSE(first.environment_config_version.empty()) << id;
    EXPECT_TRUE(first.stdout_log_path.ends_with(id + ".out")) << first.stdout_log_path;
    EXPECT_TRUE(first.stderr_log_path.ends_with(id + ".err")) << first.stderr_log_path;
    life.started = first.timestamp;
    std::int64_t lines = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i];
      EXPECT_EQ(e.agent_name, life.agent) << id;
      if (i > 0) {
        EXPECT_GT(e.timestamp, events[i - 1].timestamp) << id << ": two events at one time";
        EXPECT_NE(e.state, SessionState::started) << id << ": started twice";
        EXPECT_FALSE(core::is_terminal(events[i - 1].state)) << id << ": an event after the end";
        if (events[i - 1].state == SessionState::paused) {
          EXPECT_EQ(e.state, SessionState::running) << id << ": a pause must be resumed";
        }
        EXPECT_GE(e.lines_processed.value_or(-1), lines) << id;
        lines = e.lines_processed.value_or(lines);
      }
      switch (e.state) {
        case SessionState::completed:
          EXPECT_EQ(e.exit_code, 0) << id;
          break;
        case SessionState::failed:
          EXPECT_TRUE(e.exit_code && *e.exit_code != 0) << id;
          break;
        case SessionState::killed:
          EXPECT_TRUE(e.exit_code == 137 || e.exit_code == 143) << id;
          break;
        default:
          EXPECT_FALSE(e.exit_code) << id;
      }
      if (core::is_terminal(e.state)) life.ended = e.timestamp;
      life.last = e.state;
    }
  }
  return lives;
}

TEST(Produce, EveryMessageReachesTheBrokerSpreadOverAllPartitions) {
  testing::BackgroundProcess broker({"dev-broker", "--partitions", "8"});
  const std::string bootstrap = broker.read_line(10000);
  ASSERT_FALSE(bootstrap.empty());

  const auto r =
      testing::run_patternd({"produce", "--brokers", bootstrap, "--kind", "mixed", "--count",
                             "20000", "--seed", "5", "--duplicates", "0.02", "--invalid", "0.01"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("delivered 20,000, failed 0"), std::string::npos) << r.err;

  EXPECT_NE(r.err.find(" to agent.outcomes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" to agent.sessions"), std::string::npos) << r.err;

  // About 43% workflows, 43% extractions, 9% outcomes, 5% sessions.
  const std::map<std::string, std::pair<std::int64_t, std::int64_t>> expected_range = {
      {"agent.workflows", {8000, 9200}},
      {"agent.extractions", {8000, 9200}},
      {"agent.outcomes", {1400, 2200}},
      {"agent.sessions", {700, 1300}}};
  std::int64_t total = 0;
  for (const auto& [topic, range] : expected_range) {
    std::int64_t in_topic = 0;
    for (const std::int64_t size : partition_sizes(bootstrap, topic, 8)) {
      EXPECT_GT(size, 0) << topic << ": keyed messages must reach every partition";
      in_topic += size;
    }
    EXPECT_GE(in_topic, range.first) << topic;
    EXPECT_LE(in_topic, range.second) << topic;
    total += in_topic;
  }
  EXPECT_EQ(total, 20000);
  broker.signal(SIGTERM);
  EXPECT_EQ(broker.wait(10000), 0);
}

TEST(Produce, ReplaysAFileToTheNamedTopic) {
  testing::TempDir dir;
  testing::BackgroundProcess broker({"dev-broker", "--partitions", "4"});
  const std::string bootstrap = broker.read_line(10000);
  const std::string file = dir.file("x.jsonl");
  testing::write_file(file, "{\"a\": 1}\n\n{\"a\": 2}\nnot json\n");
  const auto r = testing::run_patternd(
      {"produce", "--brokers", bootstrap, "--file", file, "--topic", "extractions"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::int64_t total = 0;
  for (const std::int64_t size : partition_sizes(bootstrap, "agent.extractions", 4)) total += size;
  EXPECT_EQ(total, 3);  // the blank line is not a message
}

TEST(Produce, TheSameSeedGivesTheSameMessages) {
  testing::TempDir dir;
  for (const std::string kind : {"extractions", "sessions", "prompts"}) {
    for (const std::string name : {"a.jsonl", "b.jsonl"}) {
      const auto r =
          testing::run_patternd({"produce", "--kind", kind, "--count", "3000", "--seed", "9",
                                 "--duplicates", "0.1", "--invalid", "0.1", "--start",
                                 "2026-11-01T00:00:00Z", "--output", dir.file(kind + name)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    const std::string a = testing::read_file(dir.file(kind + "a.jsonl"));
    EXPECT_EQ(a, testing::read_file(dir.file(kind + "b.jsonl"))) << kind;
    EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 3000) << kind;
  }
}

TEST(Produce, NeedsADestination) {
  const auto r = testing::run_patternd({"produce", "--count", "5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--brokers"), std::string::npos) << r.err;
}

TEST(Produce, OutputRefusesToReplaceAnExistingFileUnlessForced) {
  testing::TempDir dir;
  const std::string out = dir.file("precious.jsonl");
  testing::write_file(out, "precious\n");
  const std::vector<std::string> args = {"produce", "--kind",   "workflows", "--count",
                                         "5",       "--output", out};
  const auto refused = testing::run_patternd(args);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find(out + ": exists already"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_EQ(testing::read_file(out), "precious\n");

  auto forced_args = args;
  forced_args.push_back("--force");
  const auto forced = testing::run_patternd(forced_args);
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(testing::read_lines(out).size(), 5u);
}

TEST(Produce, OutcomesSucceedAtTheirApproachsRateSoTheApproachesRankAsConfigured) {
  // The read API's ranking of fixes is only testable if the rates differ
  // (by 0.1 or more; 0.099 allows for the rounding of the subtraction).
  for (std::size_t i = 1; i < fleet::k_approaches.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      EXPECT_GT(std::abs(fleet::k_approaches[i].success_rate - fleet::k_approaches[j].success_rate),
                0.099)
          << fleet::k_approaches[i].name << " and " << fleet::k_approaches[j].name;

  const auto lines = produce_lines("outcomes", 6000, 11);
  ASSERT_EQ(lines.size(), 6000u);
  std::map<std::string, std::pair<int, int>> tries;  // pattern -> (attempts, successes)
  int without_error = 0, with_id = 0;
  for (const auto& line : lines) {
    const json o = json::parse(line);
    auto& [attempts, successes] = tries[o.at("pattern").get<std::string>()];
    ++attempts;
    successes += o.at("success").get<bool>();
    without_error += !o.contains("error");
    with_id += o.contains("outcome_id");
    EXPECT_GE(o.at("duration_ms").get<std::int64_t>(), 0) << line;
    EXPECT_FALSE(o.at("fix").get<std::string>().empty()) << line;
  }
  ASSERT_EQ(tries.size(), fleet::k_approaches.size());

  std::vector<std::pair<double, std::string>> observed, configured;
  for (const auto& approach : fleet::k_approaches) {
    const std::string name(approach.name);
    ASSERT_TRUE(tries.contains(name)) << name;
    const auto [attempts, successes] = tries[name];
    ASSERT_GE(attempts, 900) << name;
    const double rate = static_cast<double>(successes) / attempts;
    EXPECT_NEAR(rate, approach.success_rate, 0.05) << name << ": " << successes << "/" << attempts;
    observed.emplace_back(rate, name);
    configured.emplace_back(approach.success_rate, name);
  }
  std::ranges::sort(observed);
  std::ranges::sort(configured);
  for (std::size_t i = 0; i < observed.size(); ++i)
    EXPECT_EQ(observed[i].second, configured[i].second) << "rank " << i;

  EXPECT_NEAR(without_error / 6000.0, 0.2, 0.03);
  EXPECT_NEAR(with_id / 6000.0, 0.9, 0.03);
}

TEST(Produce, OutcomesRetryTheFailuresOfTheFleetsExtractionsInTheirSessions) {
  // The same seed: the same sessions, and failures from the same templates.
  std::set<std::string> extraction_failures;
  std::map<std::string, std::string> session_agents;
  for (const auto& line : produce_lines("extractions", 20000, 4)) {
    const json e = json::parse(line);
    session_agents[e.at("session_id")] = e.at("agent_name");
    if (e.at("event_type") == "error")
      extraction_failures.insert(
          detect::normalize_failure(e.at("matched_value").get<std::string>()));
  }
  ASSERT_GE(extraction_failures.size(), 15u);

  std::set<std::string> texts, failures;
  for (const auto& line : produce_lines("outcomes", 3000, 4)) {
    const json o = json::parse(line);
    const std::string session = o.at("session_id");
    ASSERT_TRUE(session_agents.contains(session)) << line;
    EXPECT_EQ(session_agents[session], o.at("agent_name")) << line;
    if (!o.contains("error")) continue;
    const std::string text = o.at("error");
    const std::string failure = detect::normalize_failure(text);
    EXPECT_TRUE(extraction_failures.contains(failure))
        << "\"" << text << "\" normalizes to \"" << failure
        << "\", a failure no extraction event reports";
    texts.insert(text);
    failures.insert(failure);
  }
  // Many failures, each retried with varying details (paths, values, lines).
  EXPECT_GE(failures.size(), 15u);
  EXPECT_GE(texts.size(), 4 * failures.size());
}

TEST(Produce, InvalidOutcomesOfEveryKindAreRejectedByTheDecoderAtTheRequestedRate) {
  constexpr int k_count = 5000;
  std::string summary;
  const auto lines =
      produce_lines("outcomes", k_count, 6, {"--invalid", "0.1", "--duplicates", "0.05"}, &summary);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(k_count));
  const std::uint64_t invalid = summary_count(summary, "invalid");
  const std::uint64_t duplicates = summary_count(summary, "duplicates");

  decode::Decoder decoder(1 << 20);
  std::map<std::string_view, int> rejected;  // by class
  std::uint64_t rejections = 0, repeats = 0;
  std::set<std::string> seen;
  for (const auto& line : lines) {
    repeats += !seen.insert(line).second;
    const auto decoded = decoder.decode_outcome(line, 0);
    if (decoded) continue;
    ++rejections;
    ++rejected[core::to_string(decoded.error().reject)];
  }
  EXPECT_EQ(rejections, invalid) << summary;
  EXPECT_NEAR(static_cast<double>(rejections) / k_count, 0.1 * (1 - 0.05), 0.015);
  EXPECT_EQ(repeats, duplicates) << summary;
  EXPECT_NEAR(static_cast<double>(repeats) / k_count, 0.05, 0.015);
  for (const std::string_view reject : {"invalid_json", "invalid_utf8", "not_an_object",
                                        "missing_field", "wrong_type", "out_of_range"})
    EXPECT_GT(rejected[reject], 0) << reject;
}

TEST(Produce, EachSessionsLifecycleIsToldInOrderAndOneInTenIsStillAtWorkAtTheEnd) {
  constexpr int k_count = 5000;
  const auto lines = produce_lines("sessions", k_count, 12);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(k_count));
  const auto lives = check_lifecycles(lines);
  ASSERT_GE(lives.size(), 800u);
  ASSERT_LE(lives.size(), 1200u);

  const core::TimestampMs start = *core::parse_rfc3339("2026-11-01T00:00:00Z");
  const core::TimestampMs end = start + 24 * 3600 * 1000, noon = start + 12 * 3600 * 1000;
  std::map<core::SessionState, int> last_states;
  int at_noon = 0;
  for (const auto& [id, life] : lives) {
    ++last_states[life.last];
    EXPECT_GE(life.started, start) << id;
    EXPECT_LT(life.ended.value_or(start), end) << id;
    at_noon += life.started <= noon && life.ended.value_or(end) > noon;
  }
  const auto share = [&](core::SessionState state) {
    return static_cast<double>(last_states[state]) / static_cast<double>(lives.size());
  };
  const double active = share(core::SessionState::running) + share(core::SessionState::paused) +
                        share(core::SessionState::started);
  EXPECT_NEAR(active, 0.1, 0.03);
  EXPECT_NEAR(share(core::SessionState::completed), 0.9 * 0.7, 0.05);
  EXPECT_NEAR(share(core::SessionState::failed), 0.9 * 0.2, 0.04);
  EXPECT_NEAR(share(core::SessionState::killed), 0.9 * 0.1, 0.03);
  EXPECT_GE(at_noon, 100) << "a fleet at work all day";

  std::map<std::string, int> states;
  int with_metadata = 0;
  for (const auto& line : lines) {
    const json e = json::parse(line);
    ++states[e.at("state").get<std::string>()];
    with_metadata += e.contains("metadata");
  }
  for (const auto name : core::k_session_state_names)
    EXPECT_GT(states[std::string(name)], 0) << name;
  EXPECT_GT(states["running"], states["started"]) << "sessions report their progress";
  EXPECT_GT(with_metadata, k_count / 20);
  EXPECT_LT(with_metadata, k_count / 2);
}

TEST(Produce, AMixedRunTellsTheLifecycleOfEverySessionItsEventsAndOutcomesComeFrom) {
  constexpr std::uint64_t k_count = 20000;
  fleet::Options options;
  options.mix = fleet::Mix::mixed;
  options.count = k_count;
  options.seed = 17;
  options.start = *core::parse_rfc3339("2026-11-01T00:00:00Z");
  fleet::Fleet fleet(options);
  fleet::Message message;
  std::map<core::TopicKind, std::uint64_t> per_kind;
  std::vector<std::string> lifecycle_events;
  std::vector<json> reports;  // extraction events and outcomes
  while (fleet.next(message)) {
    ++per_kind[message.kind];
    if (message.kind == core::TopicKind::sessions) {
      lifecycle_events.push_back(message.payload);
      EXPECT_EQ(message.key, json::parse(message.payload).at("session_id")) << message.payload;
    } else if (message.kind != core::TopicKind::workflows) {
      reports.push_back(json::parse(message.payload));
    }
  }
  const auto share = [&](core::TopicKind kind) {
    return static_cast<double>(per_kind[kind]) / static_cast<double>(k_count);
  };
  EXPECT_NEAR(share(core::TopicKind::workflows), 0.43, 0.02);
  EXPECT_NEAR(share(core::TopicKind::extractions), 0.43, 0.02);
  EXPECT_NEAR(share(core::TopicKind::outcomes), 0.09, 0.015);
  EXPECT_NEAR(share(core::TopicKind::sessions), 0.05, 0.01);

  const auto lives = check_lifecycles(lifecycle_events);
  std::set<std::string> reporting;
  for (const json& r : reports) {
    const std::string id = r.at("session_id");
    reporting.insert(id);
    const auto life = lives.find(id);
    ASSERT_NE(life, lives.end()) << "a session without a lifecycle: " << r.dump();
    EXPECT_EQ(life->second.agent, r.at("agent_name")) << r.dump();
    const auto time = *core::parse_rfc3339(r.at("timestamp").get<std::string>());
    EXPECT_GT(time, life->second.started) << "before its session started: " << r.dump();
    EXPECT_LT(time, life->second.ended.value_or(time + 1))
        << "after its session ended: " << r.dump();
  }
  // Sessions come and go: most of them report something, many at a time.
  EXPECT_GE(reporting.size(), lives.size() * 9 / 10);
  EXPECT_GE(reporting.size(), 100u);
}

TEST(Produce, InvalidLifecycleEventsOfEveryKindAreRejectedByTheDecoderAtTheRequestedRate) {
  constexpr int k_count = 5000;
  std::string summary;
  const auto lines =
      produce_lines("sessions", k_count, 8, {"--invalid", "0.1", "--duplicates", "0.05"}, &summary);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(k_count));
  const std::uint64_t invalid = summary_count(summary, "invalid");
  const std::uint64_t duplicates = summary_count(summary, "duplicates");

  decode::Decoder decoder(1 << 20);
  std::map<std::string_view, int> rejected;  // by class
  std::uint64_t rejections = 0, repeats = 0;
  std::set<std::string> seen;
  for (const auto& line : lines) {
    repeats += !seen.insert(line).second;
    const auto decoded = decoder.decode_session(line, 0);
    if (decoded) continue;
    ++rejections;
    ++rejected[core::to_string(decoded.error().reject)];
  }
  EXPECT_EQ(rejections, invalid) << summary;
  EXPECT_NEAR(static_cast<double>(rejections) / k_count, 0.1 * (1 - 0.05), 0.015);
  EXPECT_EQ(repeats, duplicates) << summary;
  EXPECT_NEAR(static_cast<double>(repeats) / k_count, 0.05, 0.015);
  for (const std::string_view reject : {"invalid_json", "invalid_utf8", "not_an_object",
                                        "missing_field", "wrong_type", "out_of_range", "too_deep"})
    EXPECT_GT(rejected[reject], 0) << reject;
  EXPECT_GE(check_lifecycles(lines).size(), 700u);
}

TEST(Produce, PromptsAreLongVariedAcrossBackendsAndTheInvalidOnesAreRejected) {
  constexpr int k_count = 2000;
  std::string summary;
  const auto lines =
      produce_lines("prompts", k_count, 5, {"--invalid", "0.1", "--duplicates", "0.05"}, &summary);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(k_count));
  decode::Decoder decoder(1 << 20);
  std::uint64_t rejections = 0, without_confidence = 0, valid = 0;
  std::size_t shortest = SIZE_MAX, longest = 0;
  std::map<std::string, int> backends;
  for (const auto& line : lines) {
    const auto decoded = decoder.decode_prompt(line, 0);
    if (!decoded) {
      ++rejections;
      continue;
    }
    ++valid;
    ++backends[decoded->backend];
    without_confidence += !decoded->confidence_micros;
    shortest = std::min(shortest, decoded->improved_prompt.size());
    longest = std::max(longest, decoded->improved_prompt.size());
  }
  EXPECT_EQ(rejections, summary_count(summary, "invalid")) << summary;
  EXPECT_NEAR(static_cast<double>(rejections) / k_count, 0.1 * (1 - 0.05), 0.02);
  // Improved prompts of 1 to 8 KB, from several backends, some unscored.
  EXPECT_GE(shortest, 1000u);
  EXPECT_LE(longest, 8u * 1024);
  EXPECT_GT(longest, 6000u);
  EXPECT_GE(backends.size(), 4u);
  EXPECT_NEAR(static_cast<double>(without_confidence) / static_cast<double>(valid), 0.1, 0.04);
}

}  // namespace
}  // namespace patternd
