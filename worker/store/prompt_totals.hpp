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

// What a batch adds to prompt_backend_stats, backend-free: each store
// writes it in its own way.
class PromptTotals {
 public:
  // A record new to the database.
  void add(const core::Prompt& prompt);
  // Forgets them (written, or the transaction rolled back).
  void clear() { m_backends.clear(); }

  struct Figures {
    std::int64_t prompts = 0, confidence_micros = 0, confidence_count = 0, latency_ms_sum = 0,
                 latency_count = 0;
    core::TimestampMs first = 0, last = 0;
  };
  const std::map<std::string, Figures>& backends() const { return m_backends; }

 private:
  std::map<std::string, Figures> m_backends;
};

// Inserts prompts into SQLite and writes their PromptTotals: statements
// prepared once.
class SqlitePromptTotals : public PromptTotals {
 public:
  explicit SqlitePromptTotals(SQLite::Database& db);

  // Inserts `prompt` (of batch message `message`) unless stored already: 1
  // if it was new, 0 if not, nullopt if a constraint rejected it (added to
  // `rejected`).
  std::optional<int> insert(const core::Prompt& prompt, std::uint32_t message,
                            std::vector<pipeline::Rejection>& rejected);
  // Writes the backends' figures (inside the caller's transaction) and clears.
  void flush();

 private:
  SQLite::Statement m_insert;
  SQLite::Statement m_upsert_backend;
};

}  // namespace patternd::store
