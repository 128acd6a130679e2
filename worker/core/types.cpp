#include "core/types.hpp"

namespace patternd::core {

std::string_view to_string(TopicKind kind) {
  switch (kind) {
    case TopicKind::workflows:
      return "workflows";
    case TopicKind::extractions:
      return "extractions";
  }
  return "unknown";
}

bool parse_topic_kind(std::string_view text, TopicKind& out) {
  if (text == "workflows") {
    out = TopicKind::workflows;
    return true;
  }
  if (text == "extractions") {
    out = TopicKind::extractions;
    return true;
  }
  return false;
}

}  // namespace patternd::core
