#include "config/keys.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

#include "config/storage_uri.hpp"

namespace patternd::config::detail {
namespace {

template <typename Section>
Key integer_key(std::string path, Section Config::*section, std::int64_t Section::*field,
                std::int64_t min, std::int64_t max) {
  return Key{
      std::move(path), "an integer " + std::to_string(min) + ".." + std::to_string(max),
      [=](Config& c, const std::string& text) {
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
          return false;
        (c.*section).*field = value;
        return true;
      },
      [=](const Config& c) { return std::to_string((c.*section).*field); }};
}

template <typename Section>
Key string_key(std::string path, Section Config::*section, std::string Section::*field,
               std::function<bool(const std::string&)> valid, std::string expectation) {
  return Key{std::move(path), std::move(expectation),
             [=](Config& c, const std::string& text) {
               if (!valid(text)) return false;
               (c.*section).*field = text;
               return true;
             },
             [=](const Config& c) { return (c.*section).*field; }};
}

bool non_empty(const std::string& s) { return !s.empty(); }

bool valid_topic_chars(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
  });
}
bool valid_topic(const std::string& s) {
  return !s.empty() && s.size() <= 249 && valid_topic_chars(s);
}
bool valid_host_port(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  int port = -1;
  const char* begin = s.data() + colon + 1;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(begin, end, port);
  return ec == std::errc() && ptr == end && port >= 0 && port <= 65535;
}
std::function<bool(const std::string&)> one_of(std::vector<std::string> choices) {
  return [choices = std::move(choices)](const std::string& s) {
    return std::find(choices.begin(), choices.end(), s) != choices.end();
  };
}

// kafka.topics.<name> for every stream kind of the registry.
Key topic_key(core::TopicKind kind) {
  const std::size_t i = core::index_of(kind);
  return Key{"kafka.topics." + std::string(core::stream_kind(kind).name),
             "a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)",
             [i](Config& c, const std::string& text) {
               if (!valid_topic(text)) return false;
               c.kafka.topics[i] = text;
               return true;
             },
             [i](const Config& c) { return c.kafka.topics[i]; }};
}

// api.tokens: a YAML list or a comma-separated string (the form
// PATTERND_API_TOKENS takes). Printed masked: tokens are secrets.
}  // namespace

bool valid_token(const std::string& t) {
  return t.size() >= 16 && t.size() <= 512 &&
         std::all_of(t.begin(), t.end(), [](char ch) { return ch > ' ' && ch < 127 && ch != ','; });
}
namespace {

Key tokens_key() {
  return Key{"api.tokens",
             "a list of tokens, each 16-512 visible ASCII characters without commas "
             "(openssl rand -hex 32 makes one)",
             [](Config& c, const std::string& text) {
               std::vector<std::string> tokens;
               std::stringstream ss(text);
               for (std::string t; std::getline(ss, t, ',');) {
                 if (!valid_token(t)) return false;
                 tokens.push_back(t);
               }
               c.api.tokens = std::move(tokens);
               return true;
             },
             [](const Config& c) {
               return c.api.tokens.empty() ? std::string("[]")
                                           : std::to_string(c.api.tokens.size()) + " tokens (***)";
             }};
}

// storage.uri: any text is taken here and checked with storage.type once
// the file and the environment are both read (check_storage): a rejected
// value is never echoed by the generic "expected ..., got" message, as it may
// hold a password. Printed with the password masked.
Key uri_key() {
  return Key{"storage.uri", "a postgresql:// or postgres:// URI",
             [](Config& c, const std::string& text) {
               c.storage.uri = text;
               return true;
             },
             [](const Config& c) { return mask_password(c.storage.uri); }};
}

std::vector<Key> make_keys() {
  std::vector<Key> keys = {
      string_key("kafka.brokers", &Config::kafka, &Kafka::brokers, non_empty,
                 "a non-empty list of host:port"),
      string_key("kafka.group_id", &Config::kafka, &Kafka::group_id, non_empty,
                 "a non-empty consumer group id"),
      string_key("kafka.dead_letter_topic_suffix", &Config::kafka, &Kafka::dead_letter_topic_suffix,
                 valid_topic_chars,
                 "empty, or a topic-name suffix (a-z A-Z 0-9 . _ -) such as .dlq"),
      integer_key("batch.max_messages", &Config::batch, &Batch::max_messages, 1, 1'000'000),
      integer_key("batch.max_wait_ms", &Config::batch, &Batch::max_wait_ms, 1, 60'000),
      string_key("storage.type", &Config::storage, &Storage::type, one_of({"sqlite", "postgresql"}),
                 "one of sqlite, postgresql"),
      string_key("storage.path", &Config::storage, &Storage::path, non_empty,
                 "a non-empty file path"),
      uri_key(),
      integer_key("storage.busy_timeout_ms", &Config::storage, &Storage::busy_timeout_ms, 0,
                  600'000),
      integer_key("limits.max_message_bytes", &Config::limits, &Limits::max_message_bytes, 1024,
                  64 * 1024 * 1024),
      integer_key("retention.days", &Config::retention, &Retention::days, 0, 36'500),
      string_key("metrics.listen", &Config::metrics, &Metrics::listen, valid_host_port,
                 "host:port, such as 127.0.0.1:9464 (port 0 picks a free one)"),
      string_key(
          "api.listen", &Config::api, &Api::listen,
          [](const std::string& s) { return s.empty() || valid_host_port(s); },
          "empty (no read API) or host:port, such as 127.0.0.1:8080"),
      tokens_key(),
      Key{"api.allow_anonymous", "true or false",
          [](Config& c, const std::string& text) {
            if (text != "true" && text != "false") return false;
            c.api.allow_anonymous = text == "true";
            return true;
          },
          [](const Config& c) { return std::string(c.api.allow_anonymous ? "true" : "false"); }},
      integer_key("api.query_timeout_ms", &Config::api, &Api::query_timeout_ms, 10, 600'000),
      string_key("detection.rules", &Config::detection, &Detection::rules, non_empty,
                 "the path of a rules file"),
      string_key("log.level", &Config::log, &Log::level, one_of({"debug", "info", "warn", "error"}),
                 "one of debug, info, warn, error"),
      string_key("log.format", &Config::log, &Log::format, one_of({"text", "json"}),
                 "one of text, json"),
      integer_key("log.summary_interval_s", &Config::log, &Log::summary_interval_s, 1, 86'400),
  };
  // After kafka.group_id, where the printed config shows them.
  auto at = keys.begin() + 2;
  for (const auto& k : core::k_stream_kinds) at = keys.insert(at, topic_key(k.kind)) + 1;
  return keys;
}

}  // namespace

const std::vector<Key>& keys() {
  static const std::vector<Key> k_keys = make_keys();
  return k_keys;
}

const Key* find_key(const std::string& path) {
  for (const auto& key : keys())
    if (key.path == path) return &key;
  return nullptr;
}

std::string env_name(const std::string& path) {
  std::string out = "PATTERND_";
  for (const char ch : path)
    out.push_back(ch == '.' ? '_'
                            : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  return out;
}

}  // namespace patternd::config::detail
