// `patternd replay --config FILE --session ID [--speed X] [--types T,...]
// [--to-topic T --brokers B [--sessions-topic S]]`: a session played back, as
// GET /v1/sessions/{id}/replay plays it (the same entries, NDJSON on
// stdout), or republished to Kafka as the messages its producers sent (the
// original fields and keys), so that another consumer can run it again.

#include <chrono>
#include <cstdio>
#include <thread>

#include "api/api.hpp"
#include "api/params.hpp"
#include "api/resources.hpp"
#include "app/commands.hpp"
#include "app/common.hpp"
#include "core/result.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "kafka/producer.hpp"
#include "store/reader.hpp"

namespace patternd::app {
namespace {

struct ReplayOptions {
  std::string config_path, session, types, to_topic, sessions_topic, brokers;
  std::optional<double> speed;
};

// An object's JSON with `raw` (stored JSON text, minified as it arrived)
// spliced in as its metadata: re-encoding it could change its text, and the
// text is part of a lifecycle event's identity.
std::string with_metadata(const api::Json& object, const std::optional<std::string>& raw) {
  std::string text = api::compact(object);
  if (raw) text.insert(text.size() - 1, ",\"metadata\":" + *raw);
  return text;
}

template <typename T>
void put(api::Json& out, const char* name, const std::optional<T>& value) {
  if (value) out[name] = *value;
}

// The extraction message its producer sent (SPEC section 6), from its row.
std::string extraction_message(store::Reader& reader, const store::ExtractionRow& e) {
  api::Json m;
  put(m, "event_id", e.event_id);
  m["agent_name"] = e.agent;
  m["session_id"] = e.session_id;
  m["timestamp"] = core::format_rfc3339(e.time);
  m["event_type"] = e.type;
  put(m, "pattern", e.pattern);
  put(m, "matched_value", e.matched_value);
  put(m, "original_line", e.original_line);
  put(m, "line_number", e.line_number);
  put(m, "risk_level", e.risk_level);
  put(m, "auto_confirmable", e.auto_confirmable);
  if (e.code) {
    const auto block = reader.code_block(e.code->digest);
    if (block) {
      api::Json code{{"language", block->language}, {"content", block->content}};
      put(code, "line_start", e.code->line_start);
      put(code, "line_end", e.code->line_end);
      put(code, "parseable", e.code->parseable);
      m["code_block"] = std::move(code);
    }
  }
  return with_metadata(m, e.metadata);
}

// The lifecycle message (SPEC section 12), from its state change.
std::string lifecycle_message(const store::StateChange& c) {
  api::Json m{{"session_id", c.session_id},
              {"agent_name", c.agent},
              {"state", c.state},
              {"timestamp", core::format_rfc3339(c.time)}};
  put(m, "environment", c.environment);
  put(m, "exit_code", c.exit_code);
  put(m, "lines_processed", c.lines_processed);
  put(m, "stdout_log_path", c.stdout_log_path);
  put(m, "stderr_log_path", c.stderr_log_path);
  put(m, "extraction_config_version", c.extraction_config_version);
  put(m, "environment_config_version", c.environment_config_version);
  return with_metadata(m, c.metadata);
}

int replay(const ReplayOptions& o) {
  const bool publish = !o.to_topic.empty();
  if (publish && o.brokers.empty())
    throw core::UsageError("--to-topic needs --brokers (host:port,...)");
  if (!publish && (!o.brokers.empty() || !o.sessions_topic.empty()))
    throw core::UsageError("--brokers and --sessions-topic go with --to-topic");
  const config::Config config = load_config(o.config_path);
  api::Api api(config.api, [&config] { return store::open_reader(config); });
  // Republishing is for re-running a session: at once unless --speed says.
  char speed[32];
  std::snprintf(speed, sizeof speed, "%.17g", o.speed.value_or(publish ? 0.0 : 1.0));
  std::string query = std::string("speed=") + speed;
  if (!o.types.empty()) query += "&types=" + core::percent_encode(o.types);

  std::unique_ptr<api::Replay> replay;
  try {
    replay = api.replay(o.session, query);
  } catch (const api::BadRequest& e) {
    throw core::UsageError(core::escape_for_terminal(e.what()));
  } catch (const api::NotFound& e) {
    std::fprintf(stderr, "patternd replay: %s\n", core::escape_for_terminal(e.what()).c_str());
    return 1;
  }

  std::unique_ptr<kafka::Producer> producer;
  if (publish) {
    auto made = kafka::Producer::make(o.brokers, config.kafka.properties);
    if (!made) throw std::runtime_error(made.error().message);
    producer = std::move(made).value();
  }
  std::unique_ptr<store::Reader> reader;  // for the code blocks' content
  if (publish) {
    auto opened = store::open_reader(config);
    if (!opened) throw std::runtime_error(opened.error().message);
    reader = std::move(opened).value();
  }

  std::int64_t events = 0, changes = 0, skipped = 0;
  for (auto entries = replay->next(); !entries.empty(); entries = replay->next()) {
    for (const auto& e : entries) {
      if (e.pause.count() > 0) std::this_thread::sleep_for(e.pause);
      if (!publish) {
        const std::string line = api::compact(e.json);
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
      } else if (e.extraction) {
        producer->send(o.to_topic, e.extraction->session_id,
                       extraction_message(*reader, *e.extraction));
        ++events;
      } else if (e.state_change && !o.sessions_topic.empty()) {
        producer->send(o.sessions_topic, e.state_change->session_id,
                       lifecycle_message(*e.state_change));
        ++changes;
      } else if (e.state_change) {
        ++skipped;
      } else if (e.json["kind"] == "notice") {
        std::fprintf(stderr, "patternd replay: %s\n", e.json["message"].get<std::string>().c_str());
      }
    }
  }
  if (!publish) return 0;
  if (!producer->flush(30'000) || producer->failed() > 0)
    throw std::runtime_error("not every message was delivered: " + producer->first_error());
  std::fprintf(stderr, "replay: published %lld events to %s", static_cast<long long>(events),
               o.to_topic.c_str());
  if (!o.sessions_topic.empty())
    std::fprintf(stderr, " and %lld state changes to %s", static_cast<long long>(changes),
                 o.sessions_topic.c_str());
  std::fprintf(stderr, "\n");
  if (skipped > 0)
    std::fprintf(stderr,
                 "replay: %lld state changes not published (name their topic with "
                 "--sessions-topic)\n",
                 static_cast<long long>(skipped));
  return 0;
}

}  // namespace

void add_replay(CLI::App& app, Action& run) {
  auto o = std::make_shared<ReplayOptions>();
  auto* cmd = app.add_subcommand(
      "replay",
      "Play a session back: its events and state changes in event-time order, spaced by their "
      "original intervals divided by --speed, as NDJSON on stdout (the entries of GET "
      "/v1/sessions/{id}/replay); or republish them to Kafka with their original fields and keys "
      "(--to-topic for the events, --sessions-topic for the state changes).");
  cmd->add_option("--config", o->config_path, "the YAML config file")->required();
  cmd->add_option("--session", o->session, "the session id")->required();
  cmd->add_option("--speed", o->speed,
                  "how many times faster than it happened; 0: no pauses (default 1 on stdout, "
                  "0 with --to-topic)")
      ->check(CLI::Range(0.0, 1'000'000.0));  // (and not under 0.01 but 0: as the endpoint)
  cmd->add_option("--types", o->types,
                  "only these event types, comma-separated; lifecycle: the state changes");
  cmd->add_option("--to-topic", o->to_topic, "republish the events to this topic");
  cmd->add_option("--sessions-topic", o->sessions_topic,
                  "with --to-topic: republish the state changes to this topic");
  cmd->add_option("--brokers", o->brokers, "with --to-topic: the Kafka bootstrap servers");
  cmd->callback([&run, o] { run = [o] { return replay(*o); }; });
}

}  // namespace patternd::app
