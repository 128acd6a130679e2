#include <gtest/gtest.h>

#include "decode/decoder.hpp"

namespace patternd::decode {
namespace {

constexpr core::TimestampMs k_default_time = 1'700'000'000'000;

class DecodeDecoder : public ::testing::Test {
 protected:
  Decoder m_decoder{1024 * 1024};

  DecodeError workflow_error(const std::string& payload) {
    auto result = m_decoder.decode_workflow(payload, k_default_time);
    EXPECT_FALSE(result.ok()) << payload;
    return result.ok() ? DecodeError{} : result.error();
  }
  DecodeError extraction_error(const std::string& payload) {
    auto result = m_decoder.decode_extraction(payload, k_default_time);
    EXPECT_FALSE(result.ok()) << payload;
    return result.ok() ? DecodeError{} : result.error();
  }
};

TEST_F(DecodeDecoder, DecodesTheSpecWorkflow) {
  auto w = m_decoder.decode_workflow(
      R"({"workflow_id": "wf-123", "agent_name": "ci-fixer",
          "nl_input": "Run backend tests with pytest", "workflow_template": "adw_test",
          "status": "completed", "total_tokens": 5000, "actual_cost_total": 0.50,
          "error_count": 0, "retry_count": 0, "duration_seconds": 120,
          "completed_at": "2026-11-20T10:30:00Z", "unknown": [1, {"x": 2}]})",
      k_default_time);
  ASSERT_TRUE(w.ok()) << w.error().detail;
  EXPECT_EQ(w->workflow_id, "wf-123");
  EXPECT_EQ(w->cost_micros, 500'000);
  EXPECT_EQ(w->duration_ms, 120'000);
  EXPECT_EQ(w->completed_at, 1'795'170'600'000);
  EXPECT_TRUE(w->succeeded());
}

TEST_F(DecodeDecoder, FillsDefaultsForOptionalWorkflowFields) {
  auto w = m_decoder.decode_workflow(R"({"workflow_id": "a", "nl_input": ""})", k_default_time);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->status, core::WorkflowStatus::completed);
  EXPECT_EQ(w->completed_at, k_default_time);
  EXPECT_EQ(w->total_tokens, 0);
}

TEST_F(DecodeDecoder, AcceptsIntegralFloatsAsCounts) {
  auto w = m_decoder.decode_workflow(
      R"({"workflow_id": "a", "nl_input": "x", "total_tokens": 5000.0})", k_default_time);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->total_tokens, 5000);
}

TEST_F(DecodeDecoder, ExplainsEveryKindOfBadWorkflow) {
  struct Case {
    std::string payload;
    RejectClass reject;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {R"({"nl_input": "x"})", RejectClass::missing_field, "missing required field workflow_id"},
      {R"({"workflow_id": "a"})", RejectClass::missing_field, "missing required field nl_input"},
      {R"({"workflow_id": 7, "nl_input": "x"})", RejectClass::wrong_type,
       "field workflow_id must be a string, got a number"},
      {R"({"workflow_id": "", "nl_input": "x"})", RejectClass::out_of_range,
       "field workflow_id has 0 characters, expected 1..256"},
      {R"({"workflow_id": ")" + std::string(257, 'x') + R"(", "nl_input": "x"})",
       RejectClass::out_of_range, "field workflow_id has 257 characters, expected 1..256"},
      {R"({"workflow_id": "a", "nl_input": "x", "total_tokens": -1})", RejectClass::out_of_range,
       "field total_tokens is -1, expected 0..1000000000000"},
      {R"({"workflow_id": "a", "nl_input": "x", "total_tokens": 18446744073709551615})",
       RejectClass::out_of_range, "field total_tokens is out of range (0..1000000000000)"},
      {R"({"workflow_id": "a", "nl_input": "x", "error_count": 1.5})", RejectClass::wrong_type,
       "field error_count must be an integer, got 1.5"},
      {R"({"workflow_id": "a", "nl_input": "x", "retry_count": "3"})", RejectClass::wrong_type,
       "field retry_count must be an integer, got a string"},
      {R"({"workflow_id": "a", "nl_input": "x", "actual_cost_total": -0.5})",
       RejectClass::out_of_range, "field actual_cost_total is -0.5, expected a number 0..1000000"},
      {R"({"workflow_id": "a", "nl_input": "x", "actual_cost_total": "NaN"})",
       RejectClass::wrong_type, "field actual_cost_total must be a number, got a string"},
      {R"({"workflow_id": "a", "nl_input": "x", "status": "exploded"})", RejectClass::out_of_range,
       "field status is \"exploded\", expected completed, failed or cancelled"},
      {R"({"workflow_id": "a", "nl_input": "x", "completed_at": "yesterday"})",
       RejectClass::wrong_type,
       "field completed_at is \"yesterday\", expected an RFC 3339 time such as "
       "2026-11-20T10:30:00Z"},
      {R"([1, 2])", RejectClass::not_an_object, "message is an array, expected a JSON object"},
      {R"("just a string")", RejectClass::not_an_object,
       "message is a string, expected a JSON object"},
      {"", RejectClass::invalid_json, "invalid JSON: the message is empty"},
  };
  for (const auto& c : cases) {
    const DecodeError e = workflow_error(c.payload);
    EXPECT_EQ(e.reject, c.reject) << c.payload;
    EXPECT_EQ(e.detail, c.detail) << c.payload;
  }
}

TEST_F(DecodeDecoder, RejectsBrokenJsonWithItsCause) {
  for (const char* bad : {R"({"workflow_id": "a", "nl_input": "x")", R"({"workflow_id": NaN})",
                          R"({"a": 1e400})", "{'single': 'quotes'}", R"({"a": 1,})"}) {
    const DecodeError e = workflow_error(bad);
    EXPECT_EQ(e.reject, RejectClass::invalid_json) << bad;
    EXPECT_EQ(e.detail.rfind("invalid JSON: ", 0), 0u) << e.detail;
  }
  EXPECT_EQ(workflow_error(R"({"total_tokens": 99999999999999999999})").detail,
            "invalid JSON: a number is malformed or too large to represent");
}

TEST_F(DecodeDecoder, PointsAtTheFirstInvalidUtf8Byte) {
  const DecodeError e = workflow_error("{\"workflow_id\": \"ab\xff\", \"nl_input\": \"x\"}");
  EXPECT_EQ(e.reject, RejectClass::invalid_utf8);
  EXPECT_EQ(e.detail, "invalid UTF-8 at byte 19");
}

TEST_F(DecodeDecoder, LimitsNestingTo64Levels) {
  auto nested = [](int depth) {
    return R"({"workflow_id": "a", "nl_input": "x", "m": )" + std::string(depth - 1, '[') +
           std::string(depth - 1, ']') + "}";
  };
  EXPECT_TRUE(m_decoder.decode_workflow(nested(64), k_default_time).ok());
  const DecodeError e = workflow_error(nested(65));
  EXPECT_EQ(e.reject, RejectClass::too_deep);
  EXPECT_EQ(workflow_error(nested(1000)).reject, RejectClass::too_deep);
}

TEST_F(DecodeDecoder, RejectsMessagesOverTheSizeLimitBeforeParsing) {
  Decoder small(1024);
  const std::string big = R"({"workflow_id": "a", "nl_input": ")" + std::string(2000, 'x') + "\"}";
  auto result = small.decode_workflow(big, k_default_time);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reject, RejectClass::too_large);
  EXPECT_EQ(result.error().detail,
            "message is 2036 bytes, larger than limits.max_message_bytes (1024)");
}

TEST_F(DecodeDecoder, DecodesTheSpecExtraction) {
  auto e = m_decoder.decode_extraction(
      R"json({"event_id": "3f2c", "agent_name": "codex", "session_id": "sess_abc123",
          "timestamp": "2026-11-20T10:30:00.123Z", "event_type": "error",
          "pattern": "error_detection", "matched_value": "TypeError: undefined is not a function",
          "original_line": "...", "line_number": 42, "risk_level": "high",
          "auto_confirmable": false, "metadata": {"any": ["json", 1]},
          "code_block": {"language": "python", "content": "print(1)", "line_start": 1,
                         "line_end": 9, "parseable": true}})json",
      k_default_time);
  ASSERT_TRUE(e.ok()) << e.error().detail;
  EXPECT_EQ(e->timestamp, 1'795'170'600'123);
  EXPECT_EQ(e->metadata_json, R"({"any":["json",1]})");
  ASSERT_TRUE(e->code_block.has_value());
  EXPECT_EQ(e->code_block->line_end, 9);
  EXPECT_EQ(e->auto_confirmable, false);
  EXPECT_TRUE(e->is_error());
}

TEST_F(DecodeDecoder, IdentifiesEventsByEventIdOrByTheirFields) {
  const std::string base = R"("agent_name": "codex", "session_id": "s", "event_type": "command")";
  auto with_id_a =
      m_decoder.decode_extraction("{" + base + R"(, "event_id": "e1", "line_number": 1})", 1);
  auto with_id_b =
      m_decoder.decode_extraction("{" + base + R"(, "event_id": "e1", "line_number": 2})", 2);
  ASSERT_TRUE(with_id_a.ok() && with_id_b.ok());
  EXPECT_EQ(with_id_a->identity, with_id_b->identity);  // same event_id, same event

  auto fields_a = m_decoder.decode_extraction("{" + base + R"(, "line_number": 1})", 1);
  auto fields_b = m_decoder.decode_extraction("{" + base + R"(, "line_number": 1})", 999);
  auto fields_c = m_decoder.decode_extraction("{" + base + R"(, "line_number": 2})", 1);
  ASSERT_TRUE(fields_a.ok() && fields_b.ok() && fields_c.ok());
  // Without a timestamp the identity does not depend on when it was read.
  EXPECT_EQ(fields_a->identity, fields_b->identity);
  EXPECT_NE(fields_a->identity, fields_c->identity);
  EXPECT_NE(fields_a->identity, with_id_a->identity);
}

TEST_F(DecodeDecoder, ExplainsEveryKindOfBadExtraction) {
  EXPECT_EQ(extraction_error(R"({"session_id": "s", "event_type": "e"})").detail,
            "missing required field agent_name (a non-empty string)");
  EXPECT_EQ(extraction_error(R"({"agent_name": "a", "session_id": "", "event_type": "e"})").detail,
            "missing required field session_id (a non-empty string)");
  EXPECT_EQ(
      extraction_error(
          R"({"agent_name": "a", "session_id": "s", "event_type": "e", "risk_level": "extreme"})")
          .detail,
      "field risk_level is \"extreme\", expected low, medium or high");
  EXPECT_EQ(
      extraction_error(
          R"({"agent_name": "a", "session_id": "s", "event_type": "e", "auto_confirmable": "yes"})")
          .detail,
      "field auto_confirmable must be a boolean, got a string");
  EXPECT_EQ(
      extraction_error(
          R"({"agent_name": "a", "session_id": "s", "event_type": "e", "code_block": {"language": "py"}})")
          .detail,
      "missing required field code_block.content");
  EXPECT_EQ(
      extraction_error(
          R"({"agent_name": "a", "session_id": "s", "event_type": "e", "code_block": {"content": "x", "line_end": -1}})")
          .detail,
      "field code_block.line_end is -1, expected 0..1000000000000");
  EXPECT_EQ(extraction_error(
                R"({"agent_name": "a", "session_id": "s", "event_type": "e", "line_number": true})")
                .detail,
            "field line_number must be an integer, got a boolean");
}

TEST_F(DecodeDecoder, AKnownFieldSentTwiceIsADuplicateKeyWhateverItsValues) {
  for (const char* payload :
       {R"({"workflow_id": "a", "nl_input": "x", "workflow_id": "b"})",
        R"({"workflow_id": "a", "nl_input": "x", "status": "completed", "status": "failed"})",
        R"({"workflow_id": "a", "nl_input": "x", "completed_at": null, "completed_at": null})"}) {
    const DecodeError e = workflow_error(payload);
    EXPECT_EQ(e.reject, RejectClass::duplicate_key) << payload;
    EXPECT_EQ(to_string(e.reject), "duplicate_key");
  }
  EXPECT_EQ(workflow_error(R"({"workflow_id": "a", "workflow_id": "a", "nl_input": "x"})").detail,
            "field workflow_id appears more than once");
  for (const char* payload :
       {R"({"agent_name": "a", "session_id": "s", "event_type": "e", "session_id": "t"})",
        R"({"agent_name": "a", "session_id": "s", "event_type": "e", "code_block": null,
            "code_block": {"content": "x"}})",
        R"({"agent_name": "a", "session_id": "s", "event_type": "e", "metadata": {},
            "metadata": {}})"}) {
    EXPECT_EQ(extraction_error(payload).reject, RejectClass::duplicate_key) << payload;
  }
}

TEST_F(DecodeDecoder, UnknownFieldsMayRepeatAndKnownOnesMayRepeatInsideNestedObjects) {
  EXPECT_TRUE(
      m_decoder
          .decode_workflow(R"({"workflow_id": "a", "nl_input": "x", "extra": 1, "extra": 2})",
                           k_default_time)
          .ok());
  EXPECT_TRUE(m_decoder
                  .decode_extraction(
                      R"({"agent_name": "a", "session_id": "s", "event_type": "e",
                          "metadata": {"agent_name": 1, "agent_name": 2}})",
                      k_default_time)
                  .ok());
}

}  // namespace
}  // namespace patternd::decode
