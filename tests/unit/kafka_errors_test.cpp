// What the worker does about each librdkafka error: the table.

#include <gtest/gtest.h>

#include "kafka/errors.hpp"

namespace patternd::kafka {
namespace {

struct Row {
  RdKafka::ErrorCode code;
  ErrorClass expected;
};

TEST(KafkaErrors, EachCodeHasTheClassTheWorkerActsOn) {
  const Row table[] = {
      // Not errors: a poll with nothing to return.
      {RdKafka::ERR_NO_ERROR, ErrorClass::none},
      {RdKafka::ERR__TIMED_OUT, ErrorClass::none},
      {RdKafka::ERR__PARTITION_EOF, ErrorClass::none},
      // The broker or the network: librdkafka recovers; not ready meanwhile.
      {RdKafka::ERR__ALL_BROKERS_DOWN, ErrorClass::transient},
      {RdKafka::ERR__TRANSPORT, ErrorClass::transient},
      {RdKafka::ERR__RESOLVE, ErrorClass::transient},
      {RdKafka::ERR_BROKER_NOT_AVAILABLE, ErrorClass::transient},
      {RdKafka::ERR_LEADER_NOT_AVAILABLE, ErrorClass::transient},
      {RdKafka::ERR_NOT_LEADER_FOR_PARTITION, ErrorClass::transient},
      {RdKafka::ERR_REQUEST_TIMED_OUT, ErrorClass::transient},
      {RdKafka::ERR_UNKNOWN_TOPIC_OR_PART, ErrorClass::transient},
      {RdKafka::ERR__UNKNOWN_PARTITION, ErrorClass::transient},
      {RdKafka::ERR_OFFSET_OUT_OF_RANGE, ErrorClass::transient},
      {RdKafka::ERR_COORDINATOR_NOT_AVAILABLE, ErrorClass::transient},
      // A person must act: credentials, permissions, configuration.
      {RdKafka::ERR__FATAL, ErrorClass::fatal},
      {RdKafka::ERR__AUTHENTICATION, ErrorClass::fatal},
      {RdKafka::ERR__SSL, ErrorClass::fatal},
      {RdKafka::ERR_SASL_AUTHENTICATION_FAILED, ErrorClass::fatal},
      {RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED, ErrorClass::fatal},
      {RdKafka::ERR_GROUP_AUTHORIZATION_FAILED, ErrorClass::fatal},
      {RdKafka::ERR__INVALID_ARG, ErrorClass::fatal},
      {RdKafka::ERR_INVALID_GROUP_ID, ErrorClass::fatal},
  };
  for (const auto& row : table)
    EXPECT_EQ(classify_kafka_error(row.code), row.expected)
        << RdKafka::err2str(row.code) << " should be " << to_string(row.expected);
}

TEST(KafkaErrors, ClassNamesAreShortAndStable) {
  EXPECT_EQ(to_string(ErrorClass::none), "none");
  EXPECT_EQ(to_string(ErrorClass::transient), "transient");
  EXPECT_EQ(to_string(ErrorClass::fatal), "fatal");
}

}  // namespace
}  // namespace patternd::kafka
