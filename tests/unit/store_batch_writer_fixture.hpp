#pragma once
// The setup shared by the store tests that write through a BatchWriter: a
// fresh database in a temporary directory, the shipped rules, and batches
// built from JSON payloads the way the worker builds them.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/time.hpp"
#include "detect/rules.hpp"
#include "pipeline/batch.hpp"
#include "pipeline/processor.hpp"
#include "store/batch_writer.hpp"
#include "store/database.hpp"
#include "support/helpers.hpp"

namespace patternd::store {

class BatchWriterFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    m_config.storage.path = m_dir.file("t.db");
    m_config.retention.days = 0;
    m_rules = std::make_unique<detect::Rules>(
        detect::Rules::load(testing::source_path("config/patterns.yaml")).value());
    m_db = std::move(Database::open(m_config.storage)).value();
    m_writer = std::make_unique<BatchWriter>(*m_db, m_config.kafka);
  }

  pipeline::Batch batch(core::TopicKind kind, const std::vector<std::string>& payloads,
                        std::int32_t partition = -1, std::int64_t first_offset = 1) {
    pipeline::Batch b;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      auto& m = b.messages.emplace_back();
      m.source = {kind, core::Partition{partition},
                  core::Offset{first_offset + static_cast<std::int64_t>(i)}};
      m.timestamp = 1'000;
      m.payload = payloads[i];
    }
    pipeline::Processor(m_config, *m_rules).prepare(b, core::now_ms());
    return b;
  }

  std::int64_t count(const std::string& sql) { return m_db->sql().execAndGet(sql).getInt64(); }

  static std::string workflow(const std::string& id, const std::string& input, double cost,
                              const std::string& status = "completed", int errors = 0,
                              const std::string& at = "2026-11-20T10:00:00Z") {
    return R"({"workflow_id": ")" + id + R"(", "nl_input": ")" + input +
           R"(", "total_tokens": 1000, "actual_cost_total": )" + std::to_string(cost) +
           R"(, "status": ")" + status + R"(", "error_count": )" + std::to_string(errors) +
           R"(, "duration_seconds": 60, "completed_at": ")" + at + R"("})";
  }

  testing::TempDir m_dir;
  config::Config m_config;
  std::unique_ptr<detect::Rules> m_rules;
  std::unique_ptr<Database> m_db;
  std::unique_ptr<BatchWriter> m_writer;
};

}  // namespace patternd::store
