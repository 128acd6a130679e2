#include "api/resources.hpp"

#include <algorithm>

#include "detect/failure.hpp"

namespace patternd::api {
namespace {

using Segments = std::vector<std::string>;

// A page holds `limit` rows at most, and stops early once it passed this
// size: events carry text of up to limits.max_message_bytes, and a page of
// a thousand of them would be a gigabyte held for the client.
inline constexpr std::size_t k_max_page_bytes = 4 << 20;

// A page of rows as {"data": [...], "next_cursor": ...}: the reader returned
// up to limit + 1 rows, the extra one only says a next page exists.
template <typename Row, typename PositionOf>
Json listing(const std::vector<Row>& rows, const store::Page& page, const std::string& name,
             PositionOf position_of) {
  const std::size_t limit = std::min(rows.size(), static_cast<std::size_t>(page.limit));
  Json data = Json::array();
  std::size_t bytes = 0, taken = 0;
  while (taken < limit && bytes < k_max_page_bytes) {
    Json row = to_json(rows[taken++]);
    bytes += compact(row).size();
    data.push_back(std::move(row));
  }
  const bool more = taken < rows.size();
  Json next = more ? Json(encode_cursor(name, position_of(rows[taken - 1]))) : Json(nullptr);
  return Json{{"data", std::move(data)}, {"next_cursor", std::move(next)}};
}

void check_range(const Params& p, const std::string& since, const std::string& until) {
  const auto a = p.time(since), b = p.time(until);
  if (a && b && *a >= *b) throw BadRequest(since + ": must be before " + until);
}

Json patterns(store::Reader& reader, std::string_view query) {
  const Params p(query, {"category", "tool", "target", "min_confidence", "min_occurrences", "sort",
                         "limit", "cursor"});
  store::PatternQuery q;
  q.category = p.text("category");
  q.tool = p.text("tool");
  q.target = p.text("target");
  q.min_confidence = p.number("min_confidence", 0, 1);
  q.min_occurrences = p.integer("min_occurrences", 0, INT64_MAX);
  const std::string sort = p.choice("sort", {"savings", "occurrences", "confidence", "last_seen"});
  q.sort = sort == "savings"       ? store::PatternSort::savings
           : sort == "occurrences" ? store::PatternSort::occurrences
           : sort == "confidence"  ? store::PatternSort::confidence
                                   : store::PatternSort::last_seen;
  q.page = p.page("patterns:" + sort);
  return listing(reader.patterns(q), q.page, "patterns:" + sort, [&](const store::PatternRow& r) {
    const auto& s = r.stats;
    const double key = q.sort == store::PatternSort::savings       ? s.savings_last_30_days_usd
                       : q.sort == store::PatternSort::occurrences ? double(s.occurrences)
                       : q.sort == store::PatternSort::confidence  ? s.confidence
                                                                   : double(s.last_seen);
    return store::Position{key, "", r.id};
  });
}

Json pattern(store::Reader& reader, const std::string& signature, std::string_view query) {
  const Params p(query, {});
  auto detail = reader.pattern(signature);
  if (!detail) throw NotFound("no operation pattern with signature \"" + signature + "\"");
  return to_json(*detail);
}

Json failures(store::Reader& reader, std::string_view query) {
  const Params p(query, {"agent", "since", "until", "sort", "limit", "cursor"});
  check_range(p, "since", "until");
  store::FailureQuery q;
  q.agent = p.text("agent");
  q.since = p.time("since");
  q.until = p.time("until");
  const std::string sort = p.choice("sort", {"frequency", "last_seen"});
  q.sort = sort == "frequency" ? store::FailureSort::frequency : store::FailureSort::last_seen;
  q.page = p.page("failures:" + sort);
  return listing(reader.failures(q), q.page, "failures:" + sort, [&](const store::FailureRow& r) {
    return store::Position{
        double(q.sort == store::FailureSort::frequency ? r.stats.frequency : r.stats.last_seen), "",
        r.id};
  });
}

// The fixes a lookup returns: the best of its signature's, by confidence.
inline constexpr std::int64_t k_lookup_fixes = 20;

// "Have we seen this?": the error's signature, computed as the worker does
// for extracted errors, looked up exactly, with what was tried against it
// best first. An error only outcomes named (never extracted) is not "seen"
// but may have fixes.
Json lookup(store::Reader& reader, std::string_view query, const LookupObserver& observe) {
  const Params p(query, {"error"});
  const std::string signature = detect::normalize_failure(p.required_text("error"));
  if (signature.empty()) throw BadRequest("error: nothing left after normalizing (blank text)");
  const auto found = reader.failure(signature);
  Json out{{"signature", signature}, {"seen", found.has_value()}};
  out["error_type"] = found ? found->stats.error_type : detect::failure_type(signature);
  out["frequency"] = found ? found->stats.frequency : 0;
  out["first_seen"] = time_or_null(found ? std::optional(found->stats.first_seen) : std::nullopt);
  out["last_seen"] = time_or_null(found ? std::optional(found->stats.last_seen) : std::nullopt);
  out["agents"] = found ? found->stats.agent_count : 0;
  out["sessions"] = found ? found->stats.session_count : 0;
  out["example"] = found ? Json(found->stats.example) : Json(nullptr);
  store::FixQuery fixes;
  fixes.signature = signature;
  fixes.page.limit = k_lookup_fixes;
  Json list = Json::array();
  auto rows = reader.fixes(fixes);
  if (rows.size() > static_cast<std::size_t>(k_lookup_fixes)) rows.resize(k_lookup_fixes);
  for (const auto& row : rows) {
    Json fix = to_json(row);
    fix.erase("signature");
    fix.erase("error_type");
    list.push_back(std::move(fix));
  }
  out["fixes"] = std::move(list);
  if (observe) observe(found.has_value());
  return out;
}

Json fixes(store::Reader& reader, std::string_view query) {
  const Params p(query, {"signature", "pattern", "min_confidence", "limit", "cursor"});
  store::FixQuery q;
  q.signature = p.text("signature");
  q.pattern = p.text("pattern");
  q.min_confidence = p.number("min_confidence", 0, 1);
  q.page = p.page("fixes");
  return listing(reader.fixes(q), q.page, "fixes", [](const store::FixRow& r) {
    return store::Position{r.figures.confidence, "", r.id};
  });
}

Json outcome_stats(store::Reader& reader, std::string_view query) {
  const Params p(query, {"pattern", "agent", "limit", "cursor"});
  store::OutcomeStatsQuery q;
  q.pattern = p.text("pattern");
  q.agent = p.text("agent");
  q.page = p.page(q.agent ? "outcome-stats:agent" : "outcome-stats");
  return listing(reader.outcome_stats(q), q.page, q.agent ? "outcome-stats:agent" : "outcome-stats",
                 [](const store::OutcomeStatsRow& r) {
                   return store::Position{0, r.pattern, 0};
                 });
}

store::Position time_position(core::TimestampMs t, std::int64_t id) {
  return store::Position{double(t), "", id};
}

Json extractions(store::Reader& reader, std::string_view query) {
  const Params p(
      query, {"agent", "session", "type", "pattern", "risk", "since", "until", "limit", "cursor"});
  check_range(p, "since", "until");
  store::ExtractionQuery q;
  q.agent = p.text("agent");
  q.session = p.text("session");
  q.type = p.text("type");
  q.pattern = p.text("pattern");
  if (p.text("risk")) q.risk = p.choice("risk", {"low", "medium", "high"});
  q.since = p.time("since");
  q.until = p.time("until");
  q.page = p.page("extractions");
  return listing(reader.extractions(q), q.page, "extractions",
                 [](const store::ExtractionRow& r) { return time_position(r.time, r.id); });
}

Json sessions(store::Reader& reader, std::string_view query) {
  const Params p(query, {"agent", "active", "since", "until", "limit", "cursor"});
  check_range(p, "since", "until");
  store::SessionQuery q;
  q.agent = p.text("agent");
  if (p.text("active")) q.active = p.choice("active", {"true", "false"}) == "true";
  q.since = p.time("since");
  q.until = p.time("until");
  // Active and other sessions are different listings: a cursor of one is
  // no position in the other.
  const std::string listing_name =
      q.active ? (*q.active ? "sessions:active" : "sessions:inactive") : "sessions";
  q.page = p.page(listing_name);
  return listing(reader.sessions(q), q.page, listing_name,
                 [](const store::SessionRow& r) { return time_position(r.first_event, r.id); });
}

Json session(store::Reader& reader, const std::string& id, std::string_view query) {
  const Params p(query, {});
  auto detail = reader.session(id);
  if (!detail) throw NotFound("no session \"" + id + "\"");
  return to_json(*detail);
}

Json session_events(store::Reader& reader, const std::string& id, std::string_view query) {
  const Params p(query, {"type", "pattern", "limit", "cursor"});
  store::ExtractionQuery q;
  q.session = id;
  q.type = p.text("type");
  q.pattern = p.text("pattern");
  q.oldest_first = true;
  q.page = p.page("session-events");
  auto rows = reader.extractions(q);
  if (rows.empty() && !q.page.after && !reader.session(id))
    throw NotFound("no session \"" + id + "\"");
  return listing(rows, q.page, "session-events",
                 [](const store::ExtractionRow& r) { return time_position(r.time, r.id); });
}

Json code_blocks(store::Reader& reader, std::string_view query) {
  const Params p(query, {"language", "since", "limit", "cursor"});
  store::CodeBlockQuery q;
  q.language = p.text("language");
  q.since = p.time("since");
  q.page = p.page("code-blocks");
  return listing(reader.code_blocks(q), q.page, "code-blocks",
                 [](const store::CodeBlockRow& r) { return time_position(r.first_seen, r.id); });
}

Json agents(store::Reader& reader, std::string_view query) {
  const Params p(query, {"limit", "cursor"});
  const store::Page page = p.page("agents");
  return listing(reader.agents(page), page, "agents", [](const store::AgentRow& r) {
    return store::Position{0, r.agent, 0};
  });
}

Json agent_stats(store::Reader& reader, const std::string& name, std::string_view query) {
  const Params p(query, {});
  auto stats = reader.agent_stats(name);
  if (!stats) throw NotFound("no agent \"" + name + "\" (no session or workflow names it)");
  return to_json(*stats);
}

inline constexpr std::int64_t k_max_buckets = 1000;

Json timeline(store::Reader& reader, std::string_view query) {
  const Params p(query, {"agent", "from", "to", "bucket"});
  check_range(p, "from", "to");
  store::TimelineQuery q;
  q.agent = p.text("agent");
  const std::string bucket = p.choice("bucket", {"hour", "minute", "day"});
  q.bucket = bucket == "hour"     ? store::Bucket::hour
             : bucket == "minute" ? store::Bucket::minute
                                  : store::Bucket::day;
  const std::int64_t width = store::bucket_ms(q.bucket);
  // Without a range: the last 24 hours, 60 minutes or 30 days.
  const std::int64_t default_span = q.bucket == store::Bucket::hour     ? 24
                                    : q.bucket == store::Bucket::minute ? 60
                                                                        : 30;
  q.to = p.time("to").value_or(core::now_ms());
  q.from = p.time("from").value_or(q.to - default_span * width);
  if (q.from >= q.to)
    throw BadRequest("from: must be before to (" + core::format_rfc3339(q.to) + ")");
  q.from -= ((q.from % width) + width) % width;  // the bucket it falls in
  if ((q.to - q.from + width - 1) / width > k_max_buckets)
    throw BadRequest("from: at most " + std::to_string(k_max_buckets) + " buckets of a " + bucket +
                     " between from and to; narrow the range or use a larger bucket");
  Json data = Json::array();
  for (const auto& b : reader.timeline(q)) data.push_back(to_json(b));
  return Json{{"bucket", bucket},
              {"from", core::format_rfc3339(q.from)},
              {"to", core::format_rfc3339(q.to)},
              {"data", std::move(data)}};
}

}  // namespace

std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto segment = percent_decode(path.substr(start, end - start), false);
    if (!segment) throw BadRequest("path: a segment is not valid percent-encoded UTF-8");
    out.push_back(std::move(*segment));
    start = end + 1;
  }
  return out;
}

// A full-text query is FTS5's syntax (words, "phrases", prefix*, AND, OR,
// NOT, NEAR): one it cannot parse is the client's error, named as such.
Json prompts(store::Reader& reader, std::string_view query) {
  const Params p(query, {"backend", "model", "min_confidence", "since", "q", "limit", "cursor"});
  store::PromptQuery q;
  q.backend = p.text("backend");
  q.model = p.text("model");
  q.min_confidence = p.number("min_confidence", 0, 1);
  q.since = p.time("since");
  q.q = p.text("q");
  if (q.q && q.q->find_first_not_of(" \t") == std::string::npos)
    throw BadRequest("q: expected a full-text query (words, \"a phrase\", prefix*), got nothing");
  q.page = p.page(q.q ? "prompts:search" : "prompts");
  try {
    return listing(
        reader.prompts(q), q.page, q.q ? "prompts:search" : "prompts",
        [](const store::PromptRow& r) {
          return r.rank ? store::Position{*r.rank, "", r.id} : time_position(r.time, r.id);
        });
  } catch (const store::InvalidQuery& e) {
    throw BadRequest(
        "q: not a valid full-text query (words, \"a phrase\", prefix*, AND, OR, "
        "NOT): " +
        std::string(e.what()).substr(0, 200));
  }
}

Json prompt(store::Reader& reader, const std::string& id, std::string_view query) {
  Params(query, {});
  auto row = reader.prompt(id);
  if (!row) throw NotFound("no prompt \"" + id + "\"");
  return to_json(*row);
}

Json prompt_stats(store::Reader& reader, std::string_view query) {
  const Params p(query, {"backend"});
  Json data = Json::array();
  for (const auto& row : reader.prompt_stats(p.text("backend"))) data.push_back(to_json(row));
  return Json{{"data", std::move(data)}};
}

Json resource(store::Reader& reader, const Segments& s, std::string_view query,
              const LookupObserver& on_lookup) {
  const std::size_t n = s.size();
  if (n == 1 && s[0] == "patterns") return patterns(reader, query);
  if (n == 2 && s[0] == "patterns" && !s[1].empty()) return pattern(reader, s[1], query);
  if (n == 1 && s[0] == "failures") return failures(reader, query);
  if (n == 2 && s[0] == "failures" && s[1] == "lookup") return lookup(reader, query, on_lookup);
  if (n == 1 && s[0] == "fixes") return fixes(reader, query);
  if (n == 2 && s[0] == "outcomes" && s[1] == "stats") return outcome_stats(reader, query);
  if (n == 1 && s[0] == "extractions") return extractions(reader, query);
  if (n == 1 && s[0] == "sessions") return sessions(reader, query);
  if (n == 2 && s[0] == "sessions" && !s[1].empty()) return session(reader, s[1], query);
  if (n == 3 && s[0] == "sessions" && !s[1].empty() && s[2] == "events")
    return session_events(reader, s[1], query);
  if (n == 1 && s[0] == "code-blocks") return code_blocks(reader, query);
  if (n == 1 && s[0] == "agents") return agents(reader, query);
  if (n == 3 && s[0] == "agents" && !s[1].empty() && s[2] == "stats")
    return agent_stats(reader, s[1], query);
  if (n == 1 && s[0] == "timeline") return timeline(reader, query);
  if (n == 1 && s[0] == "prompts") return prompts(reader, query);
  if (n == 2 && s[0] == "prompts" && s[1] == "stats") return prompt_stats(reader, query);
  if (n == 2 && s[0] == "prompts" && !s[1].empty()) return prompt(reader, s[1], query);
  throw NotFound("no such endpoint (see /v1/openapi.json)");
}

}  // namespace patternd::api
