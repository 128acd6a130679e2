#pragma once
// bytes -> Result<Event, DecodeError>. The only code that touches the JSON
// library. Decoding is per message and pure: no I/O, no shared state; bad
// input is data (a DecodeError with a reason a person can act on), never an
// exception.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/event.hpp"
#include "core/rejection.hpp"
#include "core/result.hpp"

namespace patternd::decode {

using core::RejectClass;

struct DecodeError {
  RejectClass reject = RejectClass::invalid_json;
  std::string detail;  // e.g. "missing required field workflow_id"
};

inline constexpr std::size_t k_max_depth = 64;
inline constexpr std::int64_t k_max_count = 1'000'000'000'000;  // per-message counts
inline constexpr double k_max_cost_usd = 1'000'000.0;           // per workflow
inline constexpr double k_max_duration_seconds = 1'000'000'000.0;

// One Decoder per thread: it owns a parser and buffers that it reuses, so the
// hot path allocates only the strings of the decoded event.
class Decoder {
 public:
  explicit Decoder(std::size_t max_message_bytes);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // default_time is used when the message carries no time of its own (the
  // Kafka message timestamp, or the time of ingestion for files).
  core::Result<core::Workflow, DecodeError> decode_workflow(std::string_view payload,
                                                            core::TimestampMs default_time);
  core::Result<core::Extraction, DecodeError> decode_extraction(std::string_view payload,
                                                                core::TimestampMs default_time);
  core::Result<core::Outcome, DecodeError> decode_outcome(std::string_view payload,
                                                          core::TimestampMs default_time);
  core::Result<core::SessionEvent, DecodeError> decode_session(std::string_view payload,
                                                               core::TimestampMs default_time);
  core::Result<core::Prompt, DecodeError> decode_prompt(std::string_view payload,
                                                        core::TimestampMs default_time);

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace patternd::decode
