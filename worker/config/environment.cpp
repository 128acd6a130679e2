#include <algorithm>
#include <numeric>
#include <regex>
#include <string_view>

#include "config/config.hpp"
#include "config/keys.hpp"

namespace patternd::config {
namespace {

using core::Error;
using detail::env_name;
using detail::Key;
using detail::keys;

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

// Reads from another host need a token, unless the operator says otherwise.

}  // namespace

core::Result<std::vector<UnknownVariable>> apply_environment(Config& config, char** environment) {
  const std::string properties_prefix = env_name("kafka.properties") + "_";
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

}  // namespace patternd::config
