#pragma once
// What writing one batch did: the store fills it, the runner adds it up, and
// metrics and logs report it. Plain data, so that metrics/ and the commands
// know nothing of the store behind it.

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "core/rejection.hpp"
#include "core/types.hpp"
#include "pipeline/batch.hpp"

namespace patternd::pipeline {

struct TopicOutcome {
  std::uint64_t persisted = 0;      // new rows
  std::uint64_t duplicates = 0;     // already present, ignored
  std::uint64_t dead_lettered = 0;  // rejected (decoder or database)
  std::uint64_t expired = 0;        // older than the retention horizon, not ingested

  TopicOutcome& operator+=(const TopicOutcome& o) {
    persisted += o.persisted;
    duplicates += o.duplicates;
    dead_lettered += o.dead_lettered;
    expired += o.expired;
    return *this;
  }
};

// Pattern occurrences that were new to the database (the aggregates grew).
struct NewOccurrences {
  std::uint64_t operation_occurrences = 0;
  std::uint64_t failure_occurrences = 0;
};

struct BatchOutcome {
  core::PerKind<TopicOutcome> topics{};
  std::map<std::pair<core::TopicKind, core::RejectClass>, std::uint64_t> dead_letter_classes;
  NewOccurrences new_occurrences;
  double transaction_seconds = 0;          // begin to commit
  std::uint64_t dead_letters_cleared = 0;  // replayed letters that passed and left the table
  // Records the database rejected (db_constraint), besides batch.rejections.
  std::vector<Rejection> store_rejections;

  TopicOutcome& topic(core::TopicKind kind) { return topics[core::index_of(kind)]; }
  const TopicOutcome& topic(core::TopicKind kind) const { return topics[core::index_of(kind)]; }
};

}  // namespace patternd::pipeline
