#include "store/prompt_reads.hpp"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include <cmath>

#include "store/read_rows.hpp"

namespace patternd::store {
namespace {

constexpr const char* k_columns =
    "p.id, p.identity, p.prompt_id, p.agent_name, p.session_id, p.created_at, p.original_idea, "
    "p.context, p.improved_prompt, p.role, p.directive, p.framework, p.guardrails, p.backend, "
    "p.model_version, p.confidence, p.reasoning, p.latency_ms";

void add(std::string& where, bool present, const char* condition) {
  if (present) where += std::string(" AND ") + condition;
}

std::string prompts_sql(const PromptQuery& q) {
  std::string where = "WHERE 1";
  add(where, q.backend.has_value(), "p.backend = :backend");
  add(where, q.model.has_value(), "p.model_version = :model");
  add(where, q.min_confidence.has_value(), "p.confidence >= :min_confidence");
  add(where, q.since.has_value(), "p.created_at >= :since");
  if (q.q) {
    // Ranked by bm25() (lower is better; ties by row id) among the newest
    // k_search_window matches: bm25 costs a few microseconds per match, and
    // a common word matches a tenth of a million prompts. FTS5 walks its
    // matches newest first (rowid order) and stops at the window, so a query
    // costs the same at any size; only the page's rows are read whole. A
    // filter tests each candidate on schema/011's covering index, not on the
    // record (whose filter columns sit after its text, in overflow pages).
    const bool filtered = where != "WHERE 1";
    add(where, true, "prompt_search MATCH :q");
    const std::string records =
        filtered ? "JOIN prompt_history p INDEXED BY prompt_history_filters ON p.id = s.rowid "
                 : "";
    const std::string keyset =
        q.page.after ? " WHERE (c.rank > :key OR (c.rank = :key AND c.id > :id))" : "";
    return "WITH c AS (SELECT s.rowid AS id, bm25(prompt_search) AS rank FROM prompt_search s " +
           records + where + " ORDER BY s.rowid DESC LIMIT " + std::to_string(k_search_window) +
           ") SELECT " + k_columns + ", c.rank FROM c JOIN prompt_history p ON p.id = c.id" +
           keyset + " ORDER BY c.rank, c.id LIMIT :limit";
  }
  add(where, q.page.after.has_value(), "(p.created_at, p.id) < (:key, :id)");
  return std::string("SELECT ") + k_columns + ", NULL FROM prompt_history p " + where +
         " ORDER BY p.created_at DESC, p.id DESC LIMIT :limit";
}

const std::string k_prompt_by_id =
    std::string("SELECT ") + k_columns + ", NULL FROM prompt_history p WHERE p.prompt_id = :id";
const std::string k_prompt_by_identity =
    std::string("SELECT ") + k_columns +
    ", NULL FROM prompt_history p WHERE p.identity = :identity";
const char* const k_backends =
    "SELECT backend, prompts, confidence_micros, confidence_count, latency_ms_sum, latency_count, "
    "first_seen, last_seen FROM prompt_backend_stats ORDER BY backend";
const char* const k_backend =
    "SELECT backend, prompts, confidence_micros, confidence_count, latency_ms_sum, latency_count, "
    "first_seen, last_seen FROM prompt_backend_stats WHERE backend = :backend";
// A backend's latencies, each distinct value with how many records have it
// (schema/011), in order: the quantiles in one walk.
const char* const k_latency_counts =
    "SELECT latency_ms, prompts FROM prompt_latency_counts WHERE backend = :backend "
    "ORDER BY latency_ms";

PromptRow prompt_row(SQLite::Statement& s) {
  PromptRow r;
  r.id = s.getColumn(0).getInt64();
  r.identity = digest_of(s.getColumn(1));
  r.prompt_id = text_or_null(s.getColumn(2));
  r.agent = text_or_null(s.getColumn(3));
  r.session_id = text_or_null(s.getColumn(4));
  r.time = s.getColumn(5).getInt64();
  r.original_idea = s.getColumn(6).getString();
  r.context = s.getColumn(7).getString();
  r.improved_prompt = s.getColumn(8).getString();
  r.role = s.getColumn(9).getString();
  r.directive = s.getColumn(10).getString();
  r.framework = s.getColumn(11).getString();
  r.guardrails = s.getColumn(12).getString();
  r.backend = s.getColumn(13).getString();
  r.model_version = text_or_null(s.getColumn(14));
  if (!s.getColumn(15).isNull()) r.confidence = s.getColumn(15).getDouble();
  r.reasoning = text_or_null(s.getColumn(16));
  r.latency_ms = integer_or_null(s.getColumn(17));
  if (!s.getColumn(18).isNull()) r.rank = s.getColumn(18).getDouble();
  return r;
}

std::optional<core::Digest> hex_digest(const std::string& text) {
  if (text.size() != 64) return std::nullopt;
  core::Digest d{};
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned byte = 0;
    for (std::size_t j = 0; j < 2; ++j) {
      const char c = text[2 * i + j];
      const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (v < 0) return std::nullopt;
      byte = byte * 16 + static_cast<unsigned>(v);
    }
    d[i] = static_cast<std::uint8_t>(byte);
  }
  return d;
}

PromptStatsRow stats_row(SQLite::Statement& s) {
  PromptStatsRow r;
  r.backend = s.getColumn(0).getString();
  r.prompts = s.getColumn(1).getInt64();
  const std::int64_t confidence_count = s.getColumn(3).getInt64();
  if (confidence_count > 0)
    r.mean_confidence = static_cast<double>(s.getColumn(2).getInt64()) / 1e6 /
                        static_cast<double>(confidence_count);
  const std::int64_t latency_count = s.getColumn(5).getInt64();
  if (latency_count > 0)
    r.mean_latency_ms =
        static_cast<double>(s.getColumn(4).getInt64()) / static_cast<double>(latency_count);
  r.first_seen = s.getColumn(6).getInt64();
  r.last_seen = s.getColumn(7).getInt64();
  return r;
}

}  // namespace

std::vector<PromptRow> read_prompts(const Prepare& prepare, const PromptQuery& q) {
  try {
    auto& s = prepare(prompts_sql(q));
    if (q.backend) s.bind(":backend", *q.backend);
    if (q.model) s.bind(":model", *q.model);
    if (q.min_confidence) s.bind(":min_confidence", *q.min_confidence);
    if (q.since) s.bind(":since", *q.since);
    if (q.q) s.bind(":q", *q.q);
    if (q.page.after) {
      s.bind(":key", q.page.after->key);
      s.bind(":id", q.page.after->id);
    }
    s.bind(":limit", q.page.limit + 1);
    std::vector<PromptRow> out;
    while (s.executeStep()) out.push_back(prompt_row(s));
    return out;
  } catch (const SQLite::Exception& e) {
    // FTS5 reports a query it cannot parse ("fts5: syntax error near",
    // "unterminated string", "no such column", "unknown special query") as a
    // plain SQLITE_ERROR of the statement, which is tested for every other
    // cause: with a text query, that error is the query's.
    if (q.q && e.getErrorCode() == SQLITE_ERROR) throw InvalidQuery(e.what());
    throw;
  }
}

std::optional<PromptRow> read_prompt(const Prepare& prepare, const std::string& id) {
  auto& s = prepare(k_prompt_by_id);
  s.bind(":id", id);
  if (s.executeStep()) return prompt_row(s);
  const auto digest = hex_digest(id);
  if (!digest) return std::nullopt;
  auto& by_identity = prepare(k_prompt_by_identity);
  by_identity.bind(":identity", digest->data(), static_cast<int>(digest->size()));
  if (by_identity.executeStep()) return prompt_row(by_identity);
  return std::nullopt;
}

std::vector<PromptStatsRow> read_prompt_stats(const Prepare& prepare,
                                              const std::optional<std::string>& backend) {
  std::vector<PromptStatsRow> out;
  {
    auto& s = prepare(backend ? k_backend : k_backends);
    if (backend) s.bind(":backend", *backend);
    while (s.executeStep()) out.push_back(stats_row(s));
  }
  for (auto& row : out) {
    auto& s = prepare(k_latency_counts);
    s.bind(":backend", row.backend);
    std::vector<std::pair<std::int64_t, std::int64_t>> counts;  // (latency, records)
    std::int64_t n = 0;
    while (s.executeStep()) {
      counts.emplace_back(s.getColumn(0).getInt64(), s.getColumn(1).getInt64());
      n += counts.back().second;
    }
    if (n == 0) continue;
    // Nearest rank: the smallest value with at least that share at or below it.
    const auto at = [&](double quantile) {
      const auto rank = static_cast<std::int64_t>(std::ceil(quantile * static_cast<double>(n)));
      std::int64_t seen = 0;
      for (const auto& [latency, records] : counts)
        if ((seen += records) >= rank) return latency;
      return counts.back().first;
    };
    row.latency_p50_ms = at(0.5);
    row.latency_p95_ms = at(0.95);
  }
  return out;
}

namespace sql {

std::vector<std::string> prompt_statements() {
  std::vector<std::string> out = {k_prompt_by_id, k_prompt_by_identity, k_backends, k_backend,
                                  k_latency_counts};
  const Position after{};
  for (int bits = 0; bits < 64; ++bits) {
    PromptQuery q;
    if (bits & 1) q.backend = "x";
    if (bits & 2) q.model = "x";
    if (bits & 4) q.min_confidence = 0.5;
    if (bits & 8) q.since = 0;
    if (bits & 16) q.q = "x";
    if (bits & 32) q.page.after = after;
    out.push_back(prompts_sql(q));
  }
  return out;
}

}  // namespace sql
}  // namespace patternd::store
