#pragma once
// The fleet's sessions (SPEC section 12, sessions): agent processes that
// start, report their progress, sometimes pause, and end completed, failed
// or killed within the produced span; one in ten is still at work when the
// span ends. Extraction events and outcomes come from sessions at work at
// their time, and lifecycle events tell each session's story in order.
//
// The plan depends on its options alone, never on what else is produced, so
// that runs of different kinds from one seed share their sessions. Stories
// are made in order of start as time advances: memory follows the sessions
// at work, not the length of the run.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event.hpp"
#include "core/time.hpp"
#include "fleet/dice.hpp"

namespace patternd::fleet {

// One lifecycle event of a session, planned ahead.
struct Step {
  core::SessionState state = core::SessionState::started;
  core::TimestampMs time = 0;
  std::int64_t lines = 0;   // lines_processed by then
  std::string_view reason;  // sent as metadata {"reason": ...} when not empty
};

struct Story {
  std::string id;
  std::uint32_t agent = 0;  // the fleet's agent number
  core::TimestampMs start = 0;
  // The terminal event's time; never, for a session at work when the span ends.
  core::TimestampMs end = std::numeric_limits<core::TimestampMs>::max();
  std::string_view environment;
  int extraction_config = 1;  // version numbers, sent as "v1", ...
  int environment_config = 1;
  int host = -1;               // sent as metadata {"host": "runner-N"} when started, if >= 0
  std::int64_t exit_code = 0;  // of the terminal step
  std::vector<Step> steps;     // in time order: started first, the terminal one (if any) last
  std::size_t sent = 0;        // how many steps have been told

  // `time`, moved into the session's life if outside: its events and
  // outcomes fall strictly between its start and its end.
  core::TimestampMs within(core::TimestampMs time) const {
    return std::min(std::max(time, start + 1), std::max(start + 1, end - 1));
  }
};

struct PlanOptions {
  std::uint64_t seed = 1;
  std::uint64_t sessions = 1;  // how many start over the span (at least one)
  core::TimestampMs start = 0;
  core::TimestampMs span_ms = 1;
  std::uint32_t agents = 1;  // stories pick an agent number below this
  bool events = false;       // pick() will be called
  bool lifecycle = false;    // due() and next_event() will be called
};

class SessionPlan {
 public:
  explicit SessionPlan(PlanOptions options);

  // How many lifecycle events a session has on average, to size a plan to
  // a number of messages.
  static double events_per_session();

  // A session at work at `moment`, for an extraction event (a session that
  // has reported none yet comes first, so that each one's lifecycle has
  // events to go with it) or an outcome. When none is at work (a sparse
  // fleet), the next to start, or else the last to have started. `moment`
  // never decreases from call to call.
  const Story& pick(core::TimestampMs moment, Dice& dice, bool for_extraction);

  // Whether a lifecycle event is planned at or before `moment`.
  bool due(core::TimestampMs moment);

  // The next lifecycle event in time order, and its session (valid until
  // the next call). Once every planned one has been told, a further
  // `running` report of a session still at work, at `moment` or after its
  // previous one.
  std::pair<const Story*, Step> next_event(core::TimestampMs moment);

 private:
  struct Pending {
    core::TimestampMs time;  // of the story's next step
    std::uint64_t order;     // of admission: ties go to the earlier story
    std::shared_ptr<Story> story;
    bool operator>(const Pending& other) const {
      return time != other.time ? time > other.time : order > other.order;
    }
  };

  std::shared_ptr<Story> next_story();  // in order of start; null after the last
  std::shared_ptr<Story> make_story(double start, bool endless);
  void admit(std::shared_ptr<Story> story);
  void admit_upcoming();
  void admit_until(core::TimestampMs moment);
  core::TimestampMs at(double fraction) const;

  PlanOptions m_options;
  Dice m_dice;
  std::uint64_t m_made = 0;
  std::uint64_t m_admitted = 0;
  std::uint64_t m_early;  // sessions that start in the span's first minutes
  std::shared_ptr<Story> m_upcoming;
  std::shared_ptr<Story> m_last;                    // the last admitted
  std::shared_ptr<Story> m_told;                    // the session of the last lifecycle event
  std::vector<std::shared_ptr<Story>> m_at_work;    // some may have ended: removed when met
  std::deque<std::shared_ptr<Story>> m_unreported;  // no extraction event yet
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> m_pending;
  std::vector<std::shared_ptr<Story>> m_endless;  // a few never-ending ones, for more reports
};

}  // namespace patternd::fleet
