#pragma once
// Where the runner's messages come from: Kafka partitions, JSON lines, the
// dead-letter table. A source fills the forming batch and hears back what
// became of its batches (for Kafka: offsets committed, partitions rewound).

#include <chrono>
#include <thread>
#include <vector>

#include "pipeline/batch.hpp"
#include "pipeline/outcome.hpp"

namespace patternd::source {

// What a source may ask of the runner while it polls (a Kafka rebalance
// must see everything consumed so far written before partitions change).
class Flow {
 public:
  virtual ~Flow() = default;
  // Writes everything consumed so far, or abandons it if nothing can be
  // committed for a while (then on_abandoned() follows).
  virtual void settle() = 0;
  // Nothing queued for the store, nothing being written.
  virtual bool store_idle() const = 0;
};

class Source {
 public:
  enum class Poll { messages, nothing, end };

  virtual ~Source() = default;

  // Appends at most `room` messages to `forming.messages`, waiting at most
  // `timeout` for the first; `end` once there will be no more (never, for
  // Kafka). On the runner's thread.
  virtual Poll poll(Flow& flow, pipeline::Batch& forming, std::size_t room,
                    std::chrono::milliseconds timeout) = 0;

  // While the store refuses batches, the runner stops taking messages: the
  // source is paused, and keep_alive() is called instead of poll(). A source
  // that must keep talking to its server meanwhile (Kafka's group) does so
  // there; others just wait.
  virtual void pause(bool /*paused*/) {}
  virtual void keep_alive(Flow& /*flow*/, pipeline::Batch& /*forming*/,
                          std::chrono::milliseconds timeout) {
    std::this_thread::sleep_for(timeout);
  }

  // A batch closes: the source adds what the store must record with it (the
  // next offsets, the replay mark). On the runner's thread.
  virtual void closing(pipeline::Batch& /*batch*/) {}
  // The batch was decoded and detected: the source may refine what the
  // decoder said of its messages. On the runner's thread.
  virtual void decoded(pipeline::Batch& /*batch*/) {}
  // A batch is durable. On the store's writer thread.
  virtual void written(const pipeline::Batch& /*batch*/, const pipeline::BatchOutcome&) {}
  // Batches given up unwritten: their messages must be read again.
  virtual void abandoned(const std::vector<pipeline::Batch>& /*batches*/) {}
  // Called between polls, on the runner's thread (gauges, summaries).
  virtual void tick() {}
};

}  // namespace patternd::source
