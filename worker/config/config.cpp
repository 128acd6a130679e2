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

#include "config/keys.hpp"
#include "config/storage_uri.hpp"

extern char** environ;

namespace patternd::config {
namespace {

using core::Error;
using detail::find_key;
using detail::Key;
using detail::keys;
using detail::valid_token;

constexpr std::string_view k_properties = "kafka.properties";

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
        if (path == "api.tokens" && value.IsSequence()) {
          std::string joined;
          for (const auto& item : value) {
            if (!item.IsScalar() || !valid_token(item.Scalar()))
              return at(item, path, "expected " + key->expectation);
            joined += (joined.empty() ? "" : ",") + item.Scalar();
          }
          key->set(m_config, joined);
          continue;
        }
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

std::optional<std::string> check_api_exposure(const Api& api) {
  if (api.listen.empty() || !api.tokens.empty() || api.allow_anonymous) return std::nullopt;
  const auto colon = api.listen.rfind(':');
  std::string host = api.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const bool loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
  if (loopback) return std::nullopt;
  return "api.listen is " + api.listen +
         ", reachable from other hosts, and api.tokens is empty: set api.tokens (or "
         "PATTERND_API_TOKENS), or api.allow_anonymous: true to serve the memory to anyone";
}

}  // namespace

bool is_secret_property(const std::string& name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.find("token") != std::string::npos || lower.find("key.pem") != std::string::npos;
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
  if (auto e = check_api_exposure(config.api)) return Error{path + ": " + *e};
  if (auto e = check_storage(config.storage)) return Error{path + ": " + *e};
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
    out << YAML::Key << parts.back() << YAML::Value;
    if (key.path == "api.tokens") {  // a list, each token a secret
      out << YAML::Flow << YAML::BeginSeq;
      for (std::size_t i = 0; i < config.api.tokens.size(); ++i) out << "***";
      out << YAML::EndSeq;
    } else {
      out << key.get(config);
    }
  }
  while (!open.empty()) {
    out << YAML::EndMap;
    open.pop_back();
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace patternd::config
