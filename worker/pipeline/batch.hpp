#pragma once
// A batch: the unit that flows source -> decode -> detect -> store and whose
// offsets are acknowledged back once it is durable. It owns the raw messages;
// decoded records refer to them by index (for dead letters and positions).

#include <cstdint>
#include <string>
#include <vector>

#include "core/event.hpp"
#include "core/rejection.hpp"
#include "core/types.hpp"

namespace patternd::pipeline {

struct RawMessage {
  core::SourcePosition source;
  core::TimestampMs timestamp = 0;  // Kafka timestamp, or the time it was read
  std::string payload;
};

struct WorkflowRecord {
  std::uint32_t message = 0;  // index into Batch::messages
  core::Workflow workflow;
  std::vector<std::string> signatures;  // filled by detection
};

struct ExtractionRecord {
  std::uint32_t message = 0;
  core::Extraction event;
  std::string failure_signature;  // filled by detection for error events
  std::string failure_type;
};

struct OutcomeRecord {
  std::uint32_t message = 0;
  core::Outcome outcome;
  std::string failure_signature;  // filled by detection when the outcome names an error
  std::string failure_type;
};

struct SessionEventRecord {
  std::uint32_t message = 0;
  core::SessionEvent event;
};

struct PromptRecord {
  std::uint32_t message = 0;
  core::Prompt prompt;
};

// A dead letter keeps the first 64 KiB of its message.
inline constexpr std::size_t k_max_dead_letter_payload = 64 * 1024;

struct Rejection {
  std::uint32_t message = 0;
  core::RejectClass reject = core::RejectClass::invalid_json;
  std::string reason;
};

// The next offset to consume for one partition after this batch.
struct OffsetMark {
  core::TopicKind kind = core::TopicKind::workflows;
  core::Partition partition;
  core::Offset next;
};

struct Batch {
  std::vector<RawMessage> messages;
  std::vector<WorkflowRecord> workflows;
  std::vector<ExtractionRecord> extractions;
  std::vector<OutcomeRecord> outcomes;
  std::vector<SessionEventRecord> session_events;
  std::vector<PromptRecord> prompts;
  std::vector<Rejection> rejections;
  std::vector<OffsetMark> offsets;
  core::PerKind<std::uint64_t> expired{};  // older than the retention horizon
  // The messages are dead letters replayed (`patternd dead-letters replay`):
  // those that pass now leave dead_letters in the transaction that stores them.
  bool replay = false;
  // For messages read from a file: its name, kept with their dead letters
  // (their offsets are line numbers).
  std::string source_name;

  void clear() {
    messages.clear();
    workflows.clear();
    extractions.clear();
    outcomes.clear();
    session_events.clear();
    prompts.clear();
    rejections.clear();
    offsets.clear();
    expired = {};
    replay = false;
    source_name.clear();
  }
};

}  // namespace patternd::pipeline
