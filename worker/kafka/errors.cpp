#include "kafka/errors.hpp"

namespace patternd::kafka {

ErrorClass classify_kafka_error(RdKafka::ErrorCode code) {
  switch (code) {
    case RdKafka::ERR_NO_ERROR:
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__PARTITION_EOF:
    case RdKafka::ERR__NO_OFFSET:
      return ErrorClass::none;

    case RdKafka::ERR__FATAL:
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR__AUTHENTICATION:
    case RdKafka::ERR__SSL:
    case RdKafka::ERR_SASL_AUTHENTICATION_FAILED:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_GROUP_AUTHORIZATION_FAILED:
    case RdKafka::ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RdKafka::ERR_UNSUPPORTED_SASL_MECHANISM:
    case RdKafka::ERR_ILLEGAL_SASL_STATE:
    case RdKafka::ERR_INVALID_GROUP_ID:
    case RdKafka::ERR__UNSUPPORTED_FEATURE:
    case RdKafka::ERR_UNSUPPORTED_VERSION:
      return ErrorClass::fatal;

    default:
      // Broker down, transport, leader changes, request timeouts, a topic
      // not created yet, offsets out of range (auto.offset.reset applies):
      // librdkafka recovers from these by itself.
      return ErrorClass::transient;
  }
}

std::string_view to_string(ErrorClass error_class) {
  switch (error_class) {
    case ErrorClass::none:
      return "none";
    case ErrorClass::transient:
      return "transient";
    case ErrorClass::fatal:
      return "fatal";
  }
  return "transient";
}

}  // namespace patternd::kafka
