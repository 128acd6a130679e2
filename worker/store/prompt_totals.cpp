#include "store/prompt_totals.hpp"

#include <algorithm>

#include "store/raw_insert.hpp"

namespace patternd::store {
namespace {

constexpr const char* k_insert_prompt = R"sql(
INSERT INTO prompt_history
  (identity, prompt_id, agent_name, session_id, created_at, original_idea, context,
   improved_prompt, role, directive, framework, guardrails, backend, model_version, confidence,
   reasoning, latency_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (identity) DO NOTHING)sql";

constexpr const char* k_upsert_backend = R"sql(
INSERT INTO prompt_backend_stats
  (backend, prompts, confidence_micros, confidence_count, latency_ms_sum, latency_count,
   first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (backend) DO UPDATE SET
  prompts = prompts + excluded.prompts,
  confidence_micros = confidence_micros + excluded.confidence_micros,
  confidence_count = confidence_count + excluded.confidence_count,
  latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum,
  latency_count = latency_count + excluded.latency_count,
  first_seen = min(first_seen, excluded.first_seen),
  last_seen = max(last_seen, excluded.last_seen))sql";

}  // namespace

SqlitePromptTotals::SqlitePromptTotals(SQLite::Database& db)
    : m_insert(db, k_insert_prompt), m_upsert_backend(db, k_upsert_backend) {}

std::optional<int> SqlitePromptTotals::insert(const core::Prompt& p, std::uint32_t message,
                                              std::vector<pipeline::Rejection>& rejected) {
  auto& q = m_insert;
  bind_digest(q, 1, p.identity);
  bind_text_or_null(q, 2, p.prompt_id);
  bind_text_or_null(q, 3, p.agent_name);
  bind_text_or_null(q, 4, p.session_id);
  q.bind(5, p.timestamp);
  q.bindNoCopy(6, p.original_idea);
  q.bindNoCopy(7, p.context);
  q.bindNoCopy(8, p.improved_prompt);
  q.bindNoCopy(9, p.role);
  q.bindNoCopy(10, p.directive);
  q.bindNoCopy(11, p.framework);
  q.bindNoCopy(12, p.guardrails);
  q.bindNoCopy(13, p.backend);
  bind_text_or_null(q, 14, p.model_version);
  if (p.confidence_micros)
    q.bind(15, static_cast<double>(*p.confidence_micros) / 1e6);
  else
    q.bind(15);
  bind_text_or_null(q, 16, p.reasoning);
  bind_optional(q, 17, p.latency_ms);
  const auto added = run_insert(q, message, rejected);
  if (added != 1) return added;
  add(p);
  return 1;
}

void PromptTotals::add(const core::Prompt& p) {
  Figures& f = m_backends[p.backend];
  if (f.prompts == 0) f.first = f.last = p.timestamp;
  f.prompts += 1;
  f.first = std::min(f.first, p.timestamp);
  f.last = std::max(f.last, p.timestamp);
  if (p.confidence_micros) {
    f.confidence_micros += *p.confidence_micros;
    f.confidence_count += 1;
  }
  if (p.latency_ms) {
    f.latency_ms_sum += *p.latency_ms;
    f.latency_count += 1;
  }
}

void SqlitePromptTotals::flush() {
  auto& q = m_upsert_backend;
  for (const auto& [backend, f] : backends()) {
    q.bind(1, backend);
    q.bind(2, f.prompts);
    q.bind(3, f.confidence_micros);
    q.bind(4, f.confidence_count);
    q.bind(5, f.latency_ms_sum);
    q.bind(6, f.latency_count);
    q.bind(7, f.first);
    q.bind(8, f.last);
    q.exec();
    q.reset();
  }
  clear();
}

}  // namespace patternd::store
