#include "store/pg_read_prompts.hpp"

#include "store/pg_fts_query.hpp"
#include "store/pg_read_queries.hpp"
#include "store/pg_read_rows.hpp"

namespace patternd::store::pg {
namespace {

// A record's identity as the API names it: 64 lower-case hex digits.
bool is_identity(const std::string& id) {
  return id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The means as prompt_reads.cpp computes them, operation for operation.
PromptStatsRow stats_row(const Cells& c) {
  PromptStatsRow r;
  r.backend = c.text(0);
  r.prompts = c.integer(1);
  const std::int64_t confidence_count = c.integer(3);
  if (confidence_count > 0)
    r.mean_confidence =
        static_cast<double>(c.integer(2)) / 1e6 / static_cast<double>(confidence_count);
  const std::int64_t latency_count = c.integer(5);
  if (latency_count > 0)
    r.mean_latency_ms = static_cast<double>(c.integer(4)) / static_cast<double>(latency_count);
  r.first_seen = c.integer(6);
  r.last_seen = c.integer(7);
  return r;
}

}  // namespace

std::vector<PromptRow> read_prompts(Connection& connection, const PromptQuery& q) {
  std::optional<std::string> words;
  if (q.q) {
    auto translated = tsquery_of_fts5(*q.q);
    if (!translated) throw InvalidQuery(translated.error().message);
    words = std::move(translated).value();
    const PgResult nodes = Statement(sql::k_query_words).bind(":q", *words).run(connection);
    if (Cells(nodes.get(), 0).integer(0) == 0)
      throw InvalidQuery("no word to search for in \"" + *q.q + "\"");
  }
  Statement s(sql::prompts(q));
  s.bind(":backend", q.backend)
      .bind(":model", q.model)
      .bind(":min_confidence", q.min_confidence)
      .bind(":since", q.since)
      .bind(":q", words)
      .bind(":limit", q.page.limit + 1);
  if (q.page.after) s.bind_position(*q.page.after);
  return rows_of(s.run(connection), prompt_row);
}

std::optional<PromptRow> read_prompt(Connection& connection, const std::string& id) {
  auto rows = rows_of(Statement(sql::k_prompt_by_id).bind(":id", id).run(connection), prompt_row);
  if (rows.empty() && is_identity(id))
    rows =
        rows_of(Statement(sql::k_prompt_by_identity).bind(":identity", "\\x" + id).run(connection),
                prompt_row);
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::vector<PromptStatsRow> read_prompt_stats(Connection& connection,
                                              const std::optional<std::string>& backend) {
  Statement s(backend ? sql::k_prompt_backend : sql::k_prompt_backends);
  s.bind(":backend", backend);
  auto out = rows_of(s.run(connection), stats_row);
  for (auto& row : out) {
    const PgResult quantiles =
        Statement(sql::k_latency_quantiles).bind(":backend", row.backend).run(connection);
    const Cells c(quantiles.get(), 0);
    row.latency_p50_ms = c.integer_or_null(0);
    row.latency_p95_ms = c.integer_or_null(1);
  }
  return out;
}

}  // namespace patternd::store::pg
