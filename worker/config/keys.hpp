#pragma once
// The settings of the config file, each declared once (keys.cpp): its path,
// what a valid value looks like, how to set and print it. Internal to
// config/: the loader (config.cpp) and the environment (environment.cpp)
// share it.

#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace patternd::config::detail {

using Setter = std::function<bool(Config&, const std::string&)>;
using Getter = std::function<std::string(const Config&)>;

struct Key {
  std::string path;
  std::string expectation;  // what a valid value looks like, for error messages
  Setter set;
  Getter get;
};

const std::vector<Key>& keys();
const Key* find_key(const std::string& path);

// "kafka.brokers" -> "PATTERND_KAFKA_BROKERS"
std::string env_name(const std::string& path);

// api.tokens in its YAML-list form: each token valid.
bool valid_token(const std::string& token);

}  // namespace patternd::config::detail
