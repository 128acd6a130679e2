#pragma once
// kafka.properties checked the way librdkafka will take them: `check-config`
// then rejects what `run` would reject when it connects.

#include <map>
#include <string>

#include "core/result.hpp"

namespace patternd::kafka {

// Sets every property on a throwaway librdkafka configuration (nothing
// connects). The error names the first property librdkafka refuses and says
// why, as "kafka.properties.NAME: REASON".
core::Status<> validate_properties(const std::map<std::string, std::string>& properties);

}  // namespace patternd::kafka
