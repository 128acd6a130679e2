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
  batch.rejections.clear();
  batch.expired = {};

  for (std::uint32_t i = 0; i < batch.messages.size(); ++i) {
    const RawMessage& message = batch.messages[i];
    if (message.source.kind == core::TopicKind::workflows) {
      auto decoded = m_decoder.decode_workflow(message.payload, message.timestamp);
      if (!decoded) {
        batch.rejections.push_back({i, decoded.error().reject, decoded.error().detail});
        continue;
      }
      if (expired(decoded->completed_at, now)) {
        ++batch.expired[0];
        continue;
      }
      WorkflowRecord& record = batch.workflows.emplace_back();
      record.message = i;
      record.workflow = std::move(decoded).value();
      m_rules.classify(record.workflow.nl_input, record.workflow.workflow_template,
                       record.signatures);
    } else {
      auto decoded = m_decoder.decode_extraction(message.payload, message.timestamp);
      if (!decoded) {
        batch.rejections.push_back({i, decoded.error().reject, decoded.error().detail});
        continue;
      }
      if (expired(decoded->timestamp, now)) {
        ++batch.expired[1];
        continue;
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
  }
}

}  // namespace patternd::pipeline
