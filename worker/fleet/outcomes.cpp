// The fleet's outcomes (SPEC section 12): an agent of one of the fleet's
// sessions at work tries an approach on a failure the fleet's extraction
// events report, and says whether it worked.

#include <nlohmann/json.hpp>

#include "fleet/fleet.hpp"

namespace patternd::fleet {
namespace {

using nlohmann::json;

// Most outcomes answer a failure; the rest try an approach outside one (a
// preventive pin, a timeout raised ahead of a deploy).
constexpr double k_share_without_error = 0.2;
// Most producers send an outcome_id; some rely on the identifying fields.
constexpr double k_share_with_id = 0.9;

}  // namespace

std::string Fleet::outcome(core::TimestampMs moment, core::TimestampMs time, std::string& key) {
  const Story& session = m_sessions.pick(moment, m_dice, false);
  // Every approach is tried on every failure, so that each failure's fixes,
  // ranked by success rate, come out in the order of k_approaches' rates.
  const Approach& approach = k_approaches[below(k_approaches.size())];
  key = session.id;
  json o = {{"agent_name", agent_name(session.agent)},
            {"session_id", session.id},
            {"timestamp", core::format_rfc3339(session.within(time))},
            {"pattern", approach.name},
            {"success", chance(approach.success_rate)},
            {"duration_ms",
             approach.typical_ms / 2 +
                 static_cast<std::int64_t>(below(static_cast<std::uint64_t>(approach.typical_ms)))},
            {"fix", fill(approach.fixes[below(approach.fixes.size())])},
            {"organization_id", "org_" + std::to_string(1 + session.agent % 3)},
            {"user_id", std::to_string(100 + session.agent)}};
  if (!chance(k_share_without_error)) o["error"] = error_text();
  if (chance(k_share_with_id)) o["outcome_id"] = "out-" + hex_id(16);
  return o.dump();
}

// Each is rejected by decode_outcome; `tag` makes every one distinct.
std::string Fleet::invalid_outcome(std::uint64_t which, const std::string& tag) {
  switch (which) {
    case 0:  // a boolean sent as a string
      return R"({"agent_name": "ci-fixer", "pattern": "retry_logic", "success": "true", "fix": ")" +
             tag + R"("})";
    case 1:  // missing a required field
      return R"({"agent_name": "ci-fixer", "success": false, "outcome_id": "out-)" + tag + R"("})";
    case 2:  // out of range
      return R"({"agent_name": "codex", "pattern": "guard_null", "success": true, "duration_ms": -)" +
             std::to_string(1 + below(5000)) + R"(, "outcome_id": "out-)" + tag + R"("})";
    case 3:  // wrongly typed field
      return R"({"agent_name": 7, "pattern": "pin_dependency", "success": true, "outcome_id": "out-)" +
             tag + R"("})";
    default:  // invalid UTF-8
      return "{\"agent_name\": \"codex\", \"pattern\": \"revert_\xc3\x28\", \"success\": false, "
             "\"outcome_id\": \"out-" +
             tag + "\"}";
  }
}

}  // namespace patternd::fleet
