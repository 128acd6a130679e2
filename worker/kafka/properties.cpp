#include "kafka/properties.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <memory>

namespace patternd::kafka {

core::Status<> validate_properties(const std::map<std::string, std::string>& properties) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [name, value] : properties)
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK)
      return core::Error{"kafka.properties." + name + ": " + error};
  return {};
}

}  // namespace patternd::kafka
