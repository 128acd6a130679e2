#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <numeric>
#include <optional>
#include <regex>
#include <sstream>
#include <string_view>
#include <vector>

extern char** environ;

namespace patternd::config {
namespace {

using core::Error;

// Sets a field from its textual value; false when the value is not acceptable.
using Setter = std::function<bool(Config&, const std::string&)>;
using Getter = std::function<std::string(const Config&)>;

struct Key {
  std::string path;
  std::string expectation;  // what a valid value looks like, for error messages
  Setter set;
  Getter get;
};

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
      string_key("storage.path", &Config::storage, &Storage::path, non_empty,
                 "a non-empty file path"),
      integer_key("storage.busy_timeout_ms", &Config::storage, &Storage::busy_timeout_ms, 0,
                  600'000),
      integer_key("limits.max_message_bytes", &Config::limits, &Limits::max_message_bytes, 1024,
                  64 * 1024 * 1024),
      integer_key("retention.days", &Config::retention, &Retention::days, 0, 36'500),
      string_key("metrics.listen", &Config::metrics, &Metrics::listen, valid_host_port,
                 "host:port, such as 127.0.0.1:9464 (port 0 picks a free one)"),
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

const std::vector<Key>& keys() {
  static const std::vector<Key> k_keys = make_keys();
  return k_keys;
}

constexpr std::string_view k_properties = "kafka.properties";

const Key* find_key(const std::string& path) {
  for (const auto& key : keys())
    if (key.path == path) return &key;
  return nullptr;
}

// Children of a section path ("kafka" -> brokers, group_id, topics, ...).
std::vector<std::string> children_of(const std::string& prefix) {
  std::vector<std::string> out;
  auto add = [&](const std::string& path) {
    if (!prefix.empty() && path.rfind(prefix + ".", 0) != 0) return;
    std::string rest = prefix.empty() ? path : path.substr(prefix.size() + 1);
    rest = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), rest) == out.end()) out.push_back(rest);
  };
  for (const auto& key : keys()) add(key.path);
  add(std::string(k_properties));
  return out;
}

bool is_section(const std::string& path) {
  return path.empty() || (!children_of(path).empty() && !find_key(path) && path != k_properties);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

class Loader {
 public:
  Loader(Config& config, std::string file) : m_config(config), m_file(std::move(file)) {}

  std::optional<Error> walk(const YAML::Node& node, const std::string& prefix) {
    if (node.IsNull()) return std::nullopt;
    if (!node.IsMap())
      return at(node, prefix.empty() ? "the file" : prefix,
                "expected a mapping of keys (" + join(children_of(prefix)) + ")");
    for (const auto& entry : node) {
      const std::string name = entry.first.as<std::string>();
      const std::string path = prefix.empty() ? name : prefix + "." + name;
      if (auto e = once(entry.first, path)) return e;
      const YAML::Node& value = entry.second;
      if (path == k_properties) {
        if (auto e = properties(value)) return e;
      } else if (const Key* key = find_key(path)) {
        if (!value.IsScalar())
          return at(value, path, "expected " + key->expectation + ", got a " + kind(value));
        if (!key->set(m_config, value.Scalar()))
          return at(value, path,
                    "expected " + key->expectation + ", got \"" + value.Scalar() + "\"");
      } else if (is_section(path)) {
        if (auto e = walk(value, path)) return e;
      } else {
        return at(entry.first, path,
                  "unknown key (known keys" +
                      std::string(prefix.empty() ? "" : " under " + prefix) + ": " +
                      join(children_of(prefix)) + ")");
      }
    }
    return std::nullopt;
  }

 private:
  std::optional<Error> properties(const YAML::Node& node) {
    if (node.IsNull()) return std::nullopt;
    if (!node.IsMap())
      return at(node, std::string(k_properties),
                "expected a mapping of librdkafka properties, such as security.protocol: SASL_SSL");
    for (const auto& entry : node) {
      const std::string name = entry.first.as<std::string>();
      if (auto e = once(entry.first, std::string(k_properties) + "." + name)) return e;
      if (!entry.second.IsScalar())
        return at(entry.second, std::string(k_properties) + "." + name,
                  "expected a scalar librdkafka property value");
      m_config.kafka.properties[name] = entry.second.Scalar();
    }
    return std::nullopt;
  }

  // A value given twice: yaml-cpp keeps both entries of a duplicated key
  // and the last would silently win, so which one the operator meant is
  // unknown. Sections (kafka:, storage:, ...) may appear again and add keys:
  // nothing is overridden then.
  std::optional<Error> once(const YAML::Node& key, const std::string& path) {
    if (is_section(path) || path == k_properties) return std::nullopt;
    const int line = key.Mark().line + 1;
    const auto [first, inserted] = m_first_lines.emplace(path, line);
    if (inserted) return std::nullopt;
    return at(key, path,
              "duplicate key (also on line " + std::to_string(first->second) + "); keep one");
  }

  static std::string kind(const YAML::Node& node) {
    return node.IsMap() ? "mapping" : node.IsSequence() ? "list" : "value";
  }

  Error at(const YAML::Node& node, const std::string& path, const std::string& message) const {
    return Error{m_file + ":" + std::to_string(node.Mark().line + 1) + ": " + path + ": " +
                 message};
  }

  Config& m_config;
  std::string m_file;
  std::map<std::string, int> m_first_lines;  // key path -> the line it was first set on
};

std::string env_name(const std::string& path) {
  std::string out = "PATTERND_";
  for (const char ch : path)
    out.push_back(ch == '.' ? '_'
                            : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  return out;
}

// The variables Kubernetes gives every pod of a namespace for a Service named
// patternd or patternd-*: PATTERND_SERVICE_HOST, PATTERND_SERVICE_PORT[_NAME],
// PATTERND_PORT and PATTERND_PORT_9464_TCP[_PROTO|_PORT|_ADDR]. The operator
// did not set them, so they are not worth a warning.
bool is_service_link(const std::string& name) {
  static const std::regex k_service_link(
      "PATTERND(_[A-Z0-9_]+)?_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|"
      "PORT(_[0-9]+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)?)");
  return std::regex_match(name, k_service_link);
}

// Levenshtein: insertions, deletions and substitutions, one each.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Two edits catch a dropped, doubled or wrong letter and a swapped pair
// (PATTERND_KAFKA_BROKER); a name farther from every setting is more likely
// some other tool's variable, and a suggestion would only mislead.
constexpr std::size_t k_max_typo_distance = 2;

std::string closest_known_variable(const std::string& name) {
  std::string closest;
  std::size_t closest_distance = k_max_typo_distance + 1;
  for (const auto& key : keys()) {
    const std::string known = env_name(key.path);
    const std::size_t distance = edit_distance(name, known);
    if (distance < closest_distance) {
      closest_distance = distance;
      closest = known;
    }
  }
  return closest;
}

}  // namespace

bool is_secret_property(const std::string& name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.find("token") != std::string::npos || lower.find("key.pem") != std::string::npos;
}

core::Result<std::vector<UnknownVariable>> apply_environment(Config& config, char** environment) {
  const std::string properties_prefix = env_name(std::string(k_properties)) + "_";
  std::vector<UnknownVariable> unknown;
  for (char** entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view item(*entry);
    if (item.rfind("PATTERND_", 0) != 0) continue;
    const auto eq = item.find('=');
    const std::string name(item.substr(0, eq));
    const std::string value(eq == std::string_view::npos ? "" : item.substr(eq + 1));
    if (name.rfind(properties_prefix, 0) == 0) {
      // librdkafka property names use dots only: SASL_PASSWORD -> sasl.password
      std::string property = name.substr(properties_prefix.size());
      for (char& ch : property)
        ch = ch == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      config.kafka.properties[property] = value;
      continue;
    }
    const Key* match = nullptr;
    for (const auto& key : keys())
      if (env_name(key.path) == name) match = &key;
    if (match == nullptr) {
      if (!is_service_link(name)) unknown.push_back({name, closest_known_variable(name)});
      continue;
    }
    if (!match->set(config, value))
      return Error{"environment variable " + name + " (" + match->path + "): expected " +
                   match->expectation + ", got \"" + value + "\""};
  }
  return unknown;
}

core::Result<Loaded> load(const std::string& path) { return load(path, environ); }

core::Result<Loaded> load(const std::string& path, char** environment) {
  Config config;
  // yaml-cpp reads a directory as a stream that fails with a C++ library
  // message: say what is wrong instead.
  if (std::filesystem::is_directory(path))
    return Error{path + ": is a directory, expected a YAML config file"};
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Error{path + ": cannot read the config file (does it exist, is it readable?)"};
  } catch (const YAML::ParserException& e) {
    return Error{path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg};
  }
  if (auto e = Loader(config, path).walk(root, "")) return *e;
  auto unknown = apply_environment(config, environment);
  if (!unknown) return unknown.error();
  for (const auto& a : core::k_stream_kinds)
    for (const auto& b : core::k_stream_kinds)
      if (a.kind < b.kind && config.kafka.topic(a.kind) == config.kafka.topic(b.kind))
        return Error{path + ": kafka.topics: " + std::string(a.name) + " and " +
                     std::string(b.name) + " must be different topics"};
  return Loaded{std::move(config), std::move(unknown).value()};
}

std::string to_yaml(const Config& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::vector<std::string> open;  // the sections currently open
  for (const auto& key : keys()) {
    std::vector<std::string> parts;
    std::stringstream ss(key.path);
    for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
    const std::vector<std::string> sections(parts.begin(), parts.end() - 1);
    std::size_t common = 0;
    while (common < open.size() && common < sections.size() && open[common] == sections[common])
      ++common;
    while (open.size() > common) {
      // kafka.properties is a free-form map, printed when kafka closes.
      if (open.size() == 1 && open[0] == "kafka") {
        out << YAML::Key << "properties" << YAML::Value << YAML::BeginMap;
        for (const auto& [name, value] : config.kafka.properties)
          out << YAML::Key << name << YAML::Value << (is_secret_property(name) ? "***" : value);
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
      open.pop_back();
    }
    for (std::size_t i = common; i < sections.size(); ++i) {
      out << YAML::Key << sections[i] << YAML::Value << YAML::BeginMap;
      open.push_back(sections[i]);
    }
    out << YAML::Key << parts.back() << YAML::Value << key.get(config);
  }
  while (!open.empty()) {
    out << YAML::EndMap;
    open.pop_back();
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace patternd::config
