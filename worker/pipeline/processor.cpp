#include "pipeline/processor.hpp"

#include "detect/failure.hpp"

namespace patternd::pipeline {

Processor::Processor(const config::Config& config, const detect::Rules& rules)
    : m_rules(rules),
      m_retention_ms(config.retention.days * 86'400'000LL),
      m_decoder(static_cast<std::size_t>(config.limits.max_message_bytes)) {}

bool Processor::expired(core::TimestampMs event_time, core::TimestampMs now) const {
  return m_retention_ms > 0 && event_time < now - m_retention_ms;
}

void Processor::prepare(Batch& batch, core::TimestampMs now) {
  batch.workflows.clear();
  batch.extractions.clear();
  batch.outcomes.clear();
  batch.session_events.clear();
  batch.prompts.clear();
  batch.rejections.clear();
  batch.expired = {};

  for (std::uint32_t i = 0; i < batch.messages.size(); ++i) {
    switch (batch.messages[i].source.kind) {
      case core::TopicKind::workflows:
        prepare_workflow(batch, i, now);
        break;
      case core::TopicKind::extractions:
        prepare_extraction(batch, i, now);
        break;
      case core::TopicKind::outcomes:
        prepare_outcome(batch, i, now);
        break;
      case core::TopicKind::sessions:
        prepare_session(batch, i, now);
        break;
      case core::TopicKind::prompts:
        prepare_prompt(batch, i, now);
        break;
    }
  }
}

void Processor::prepare_workflow(Batch& batch, std::uint32_t i, core::TimestampMs now) {
  const RawMessage& message = batch.messages[i];
  auto decoded = m_decoder.decode_workflow(message.payload, message.timestamp);
  if (!decoded) return reject(batch, i, decoded.error());
  if (expired(decoded->completed_at, now)) {
    ++batch.expired[core::index_of(core::TopicKind::workflows)];
    return;
  }
  WorkflowRecord& record = batch.workflows.emplace_back();
  record.message = i;
  record.workflow = std::move(decoded).value();
  m_rules.classify(record.workflow.nl_input, record.workflow.workflow_template, record.signatures);
}

void Processor::prepare_extraction(Batch& batch, std::uint32_t i, core::TimestampMs now) {
  const RawMessage& message = batch.messages[i];
  auto decoded = m_decoder.decode_extraction(message.payload, message.timestamp);
  if (!decoded) return reject(batch, i, decoded.error());
  if (expired(decoded->timestamp, now)) {
    ++batch.expired[core::index_of(core::TopicKind::extractions)];
    return;
  }
  ExtractionRecord& record = batch.extractions.emplace_back();
  record.message = i;
  record.event = std::move(decoded).value();
  if (record.event.is_error()) {
    const std::string& text = record.event.matched_value.empty() ? record.event.original_line
                                                                 : record.event.matched_value;
    record.failure_signature = detect::normalize_failure(text);
    if (!record.failure_signature.empty())
      record.failure_type = detect::failure_type(record.failure_signature);
  }
}

// An outcome's error goes through the normalizer failures use, so that it
// lands on the signature of the same error seen in an extraction.
void Processor::prepare_outcome(Batch& batch, std::uint32_t i, core::TimestampMs now) {
  const RawMessage& message = batch.messages[i];
  auto decoded = m_decoder.decode_outcome(message.payload, message.timestamp);
  if (!decoded) return reject(batch, i, decoded.error());
  if (expired(decoded->timestamp, now)) {
    ++batch.expired[core::index_of(core::TopicKind::outcomes)];
    return;
  }
  OutcomeRecord& record = batch.outcomes.emplace_back();
  record.message = i;
  record.outcome = std::move(decoded).value();
  if (!record.outcome.error.empty()) {
    record.failure_signature = detect::normalize_failure(record.outcome.error);
    if (!record.failure_signature.empty())
      record.failure_type = detect::failure_type(record.failure_signature);
  }
}

void Processor::prepare_session(Batch& batch, std::uint32_t i, core::TimestampMs now) {
  const RawMessage& message = batch.messages[i];
  auto decoded = m_decoder.decode_session(message.payload, message.timestamp);
  if (!decoded) return reject(batch, i, decoded.error());
  if (expired(decoded->timestamp, now)) {
    ++batch.expired[core::index_of(core::TopicKind::sessions)];
    return;
  }
  batch.session_events.push_back({i, std::move(decoded).value()});
}

void Processor::prepare_prompt(Batch& batch, std::uint32_t i, core::TimestampMs now) {
  const RawMessage& message = batch.messages[i];
  auto decoded = m_decoder.decode_prompt(message.payload, message.timestamp);
  if (!decoded) return reject(batch, i, decoded.error());
  if (expired(decoded->timestamp, now)) {
    ++batch.expired[core::index_of(core::TopicKind::prompts)];
    return;
  }
  batch.prompts.push_back({i, std::move(decoded).value()});
}

void Processor::reject(Batch& batch, std::uint32_t i, const decode::DecodeError& error) {
  batch.rejections.push_back({i, error.reject, error.detail});
}

}  // namespace patternd::pipeline
