#pragma once
// The prompts stream's rows (schema/010): each record inserted once (its
// full-text entry follows by trigger), and prompt_backend_stats per backend,
// summed in memory over the records that were new and written with one
// upsert per backend per batch, inside the batch's transaction.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/event.hpp"
#include "pipeline/batch.hpp"

namespace patternd::store {

class PromptTotals {
 public:
  explicit PromptTotals(SQLite::Database& db);

  // Inserts `prompt` (of batch message `message`) unless stored already: 1
  // if it was new, 0 if not, nullopt if a constraint rejected it (added to
  // `rejected`).
  std::optional<int> insert(const core::Prompt& prompt, std::uint32_t message,
                            std::vector<pipeline::Rejection>& rejected);
  // Writes the backends' figures (inside the caller's transaction) and clears.
  void flush();
  // Forgets them (the transaction rolled back).
  void clear() { m_backends.clear(); }

 private:
  struct Figures {
    std::int64_t prompts = 0, confidence_micros = 0, confidence_count = 0, latency_ms_sum = 0,
                 latency_count = 0;
    core::TimestampMs first = 0, last = 0;
  };
  std::map<std::string, Figures> m_backends;
  SQLite::Statement m_insert;
  SQLite::Statement m_upsert_backend;
};

}  // namespace patternd::store
