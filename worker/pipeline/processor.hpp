#pragma once
// decode -> detect for a whole batch: fills the batch's records and
// rejections from its raw messages. Pure (no I/O), so Kafka and files share it
// and it can run on a different thread from the store.

#include <cstdint>

#include "config/config.hpp"
#include "decode/decoder.hpp"
#include "detect/rules.hpp"
#include "pipeline/batch.hpp"

namespace patternd::pipeline {

class Processor {
 public:
  Processor(const config::Config& config, const detect::Rules& rules);

  // Decodes every message of `batch`, drops (and counts) those older than the
  // retention horizon, and runs detection on the rest. `now` fixes the
  // retention horizon for the whole batch.
  void prepare(Batch& batch, core::TimestampMs now);

 private:
  bool expired(core::TimestampMs event_time, core::TimestampMs now) const;
  void prepare_workflow(Batch& batch, std::uint32_t message, core::TimestampMs now);
  void prepare_extraction(Batch& batch, std::uint32_t message, core::TimestampMs now);
  void prepare_outcome(Batch& batch, std::uint32_t message, core::TimestampMs now);
  void prepare_session(Batch& batch, std::uint32_t message, core::TimestampMs now);
  void prepare_prompt(Batch& batch, std::uint32_t i, core::TimestampMs now);
  static void reject(Batch& batch, std::uint32_t message, const decode::DecodeError& error);

  const detect::Rules& m_rules;
  std::int64_t m_retention_ms;
  decode::Decoder m_decoder;
};

}  // namespace patternd::pipeline
