#pragma once
// The dead-letter table as a source, for `patternd dead-letters replay`:
// the matching letters in id order, each as the message it was, marked as a
// replay so that one that passes now leaves the table in the transaction
// that stores it. Letters that cannot be replayed as they are (only their
// first 64 KiB were kept; a topic this config does not consume) are skipped
// and counted.

#include <cstdint>

#include "config/config.hpp"
#include "source/source.hpp"
#include "store/store.hpp"

namespace patternd::runner {

class DeadLetterSource final : public source::Source {
 public:
  // `letters`: a connection of its own (the runner's store writes meanwhile).
  DeadLetterSource(store::Store& letters, const config::Kafka& kafka,
                   store::DeadLetterFilter filter);

  Poll poll(source::Flow& flow, pipeline::Batch& forming, std::size_t room,
            std::chrono::milliseconds timeout) override;
  void closing(pipeline::Batch& batch) override { batch.replay = true; }

  std::uint64_t truncated() const { return m_truncated; }
  std::uint64_t other_topic() const { return m_other_topic; }

 private:
  store::Store& m_letters;
  const config::Kafka& m_kafka;
  store::DeadLetterFilter m_filter;
  std::uint64_t m_truncated = 0, m_other_topic = 0;
};

}  // namespace patternd::runner
