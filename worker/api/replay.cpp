#include "api/replay.hpp"

#include <algorithm>
#include <tuple>

#include "api/params.hpp"
#include "api/resources.hpp"

namespace patternd::api {
namespace {

constexpr std::size_t k_max_types = 16;

std::vector<std::string> type_list(const std::optional<std::string>& text) {
  std::vector<std::string> out;
  if (!text || text->empty()) return out;
  std::size_t start = 0;
  while (start <= text->size()) {
    std::size_t end = text->find(',', start);
    if (end == std::string::npos) end = text->size();
    const std::string type = text->substr(start, end - start);
    const bool word =
        !type.empty() && type.size() <= 64 &&
        type.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos;
    if (!word)
      throw BadRequest(
          "types: expected event types separated by commas (e.g. error,command; "
          "lifecycle for the state changes), got \"" +
          text->substr(0, 200) + "\"");
    out.push_back(type);
    start = end + 1;
  }
  if (out.size() > k_max_types)
    throw BadRequest("types: at most " + std::to_string(k_max_types) + " types");
  return out;
}

}  // namespace

ReplayOptions Replay::options(std::string_view query) {
  const Params p(query, {"speed", "types"});
  ReplayOptions o;
  o.speed = p.number("speed", 0, 1'000'000).value_or(1.0);
  // Slower than a hundredth would stretch a day-long gap past what a pause
  // can hold; and no one watches a replay at that pace.
  if (o.speed > 0 && o.speed < 0.01)
    throw BadRequest("speed: expected 0 (no pauses) or a number 0.01..1e+06, got \"" +
                     *p.text("speed") + "\"");
  o.types = type_list(p.text("types"));
  return o;
}

Replay::Replay(WithReader with_reader, std::string session_id, ReplayOptions options)
    : m_with_reader(std::move(with_reader)),
      m_session_id(std::move(session_id)),
      m_options(std::move(options)) {
  m_changes_done = !wants("lifecycle");
  m_events_done = !m_options.types.empty() &&
                  std::all_of(m_options.types.begin(), m_options.types.end(),
                              [](const std::string& t) { return t == "lifecycle"; });
  std::optional<store::StoredSession> stored;
  m_with_reader([&](store::Reader& reader) { stored = reader.stored_session(m_session_id); });
  if (!stored) throw NotFound("no session \"" + m_session_id + "\"");
  // Retention deletes raw rows and keeps the session's counts: fewer rows
  // than counted means some are gone (and the replay cannot show them).
  const auto& s = stored->session;
  if (stored->events < s.event_count || stored->state_changes < s.state_changes)
    m_notice = Json{{"kind", "notice"},
                    {"reason", "retention"},
                    {"message",
                     "retention removed some of this session's rows (older than "
                     "retention.days): the replay shows those that remain"},
                    {"events_recorded", s.event_count},
                    {"events_stored", stored->events},
                    {"state_changes_recorded", s.state_changes},
                    {"state_changes_stored", stored->state_changes}};
}

bool Replay::wants(std::string_view type) const {
  if (m_options.types.empty()) return true;
  for (const auto& t : m_options.types)
    if (t == type) return true;
  return false;
}

// Reads the next page of whichever list has run out.
void Replay::refill(store::Reader& reader) {
  if (m_event_at == m_events.size() && !m_events_done) {
    store::ExtractionQuery q;
    q.session = m_session_id;
    q.oldest_first = true;
    for (const auto& t : m_options.types)
      if (t != "lifecycle") q.types.push_back(t);
    q.page = {k_page, m_events_after};
    m_events = reader.extractions(q);
    m_event_at = 0;
    m_events_done = static_cast<std::int64_t>(m_events.size()) <= k_page;
    if (!m_events_done) m_events.pop_back();  // the extra row only said "more follow"
    if (!m_events.empty())
      m_events_after =
          store::Position{static_cast<double>(m_events.back().time), "", m_events.back().id};
  }
  if (m_change_at == m_changes.size() && !m_changes_done) {
    m_changes = reader.state_changes({m_session_id, {k_page, m_changes_after}});
    m_change_at = 0;
    m_changes_done = static_cast<std::int64_t>(m_changes.size()) <= k_page;
    if (!m_changes_done) m_changes.pop_back();
    if (!m_changes.empty())
      m_changes_after =
          store::Position{static_cast<double>(m_changes.back().time), "", m_changes.back().id};
  }
}

ReplayEntry Replay::entry(Json body, const char* kind, core::TimestampMs time) {
  if (!m_first) m_first = time;
  ReplayEntry e;
  if (m_previous && m_options.speed > 0)
    e.pause = std::chrono::microseconds(static_cast<std::int64_t>(
        static_cast<double>(time - *m_previous) * 1000.0 / m_options.speed));
  m_previous = time;
  e.json = Json{{"kind", kind}, {"offset_ms", time - *m_first}, {kind, std::move(body)}};
  return e;
}

std::vector<ReplayEntry> Replay::next(std::size_t max) {
  std::vector<ReplayEntry> out;
  if (m_ended) return out;
  if (m_notice) {
    out.push_back(ReplayEntry{std::move(*m_notice), {}, std::nullopt, std::nullopt});
    m_notice.reset();
  }
  m_with_reader([&](store::Reader& reader) {
    while (out.size() < max) {
      refill(reader);
      const bool event = m_event_at < m_events.size();
      const bool change = m_change_at < m_changes.size();
      if (!event && !change) break;
      // At the same instant a state change comes first (a session starts,
      // then emits), then ids in arrival order.
      const bool take_change =
          change &&
          (!event || std::tuple(m_changes[m_change_at].time, 0, m_changes[m_change_at].id) <
                         std::tuple(m_events[m_event_at].time, 1, m_events[m_event_at].id));
      if (take_change) {
        auto& c = m_changes[m_change_at++];
        out.push_back(entry(to_json(c), "state_change", c.time));
        out.back().state_change = std::move(c);
        ++m_state_changes_sent;
      } else {
        auto& e = m_events[m_event_at++];
        out.push_back(entry(to_json(e), "extraction", e.time));
        out.back().extraction = std::move(e);
        ++m_extractions_sent;
      }
    }
  });
  if (out.size() < max && m_event_at == m_events.size() && m_events_done &&
      m_change_at == m_changes.size() && m_changes_done) {
    const std::int64_t span = m_first ? *m_previous - *m_first : 0;
    out.push_back(ReplayEntry{Json{{"kind", "end"},
                                   {"extractions", m_extractions_sent},
                                   {"state_changes", m_state_changes_sent},
                                   {"span_ms", span}},
                              {},
                              std::nullopt,
                              std::nullopt});
    m_ended = true;
  }
  return out;
}

namespace {

class ReplayStream final : public http::Stream {
 public:
  ReplayStream(std::unique_ptr<Replay> replay, bool ndjson)
      : m_replay(std::move(replay)), m_ndjson(ndjson) {}

  std::vector<Piece> next() override {
    std::vector<Piece> out;
    for (auto& e : m_replay->next()) {
      const std::string body = compact(e.json);
      if (m_ndjson) {
        out.push_back({body + "\n", e.pause});
      } else {
        out.push_back({"event: " + e.json["kind"].get<std::string>() +
                           "\nid: " + std::to_string(++m_sequence) + "\ndata: " + body + "\n\n",
                       e.pause});
      }
    }
    return out;
  }

  std::string keepalive() const override { return m_ndjson ? "" : ": keepalive\n\n"; }

 private:
  std::unique_ptr<Replay> m_replay;
  bool m_ndjson;
  std::int64_t m_sequence = 0;
};

}  // namespace

std::shared_ptr<http::Stream> replay_stream(std::unique_ptr<Replay> replay, bool ndjson) {
  return std::make_shared<ReplayStream>(std::move(replay), ndjson);
}

}  // namespace patternd::api
