#pragma once
// What to do about a librdkafka error code: one pure function, tested as a
// table (tests/unit/kafka_errors_test.cpp).

#include <librdkafka/rdkafkacpp.h>

#include <string_view>

namespace patternd::kafka {

enum class ErrorClass {
  none,       // not an error: a poll that timed out, the end of a partition
  transient,  // the broker or network: librdkafka reconnects and retries; not ready meanwhile
  fatal,      // configuration, authentication, authorization: a person must act
};

ErrorClass classify_kafka_error(RdKafka::ErrorCode code);
std::string_view to_string(ErrorClass error_class);

}  // namespace patternd::kafka
