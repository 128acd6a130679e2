#include "core/types.hpp"

namespace patternd::core {

std::string_view to_string(TopicKind kind) { return stream_kind(kind).name; }

std::optional<TopicKind> parse_topic_kind(std::string_view name) {
  for (const auto& k : k_stream_kinds)
    if (k.name == name) return k.kind;
  return std::nullopt;
}

std::string stream_kind_names(std::string_view separator) {
  std::string out;
  for (const auto& k : k_stream_kinds) {
    if (!out.empty()) out += separator;
    out += k.name;
  }
  return out;
}

}  // namespace patternd::core
