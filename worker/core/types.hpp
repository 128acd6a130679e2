#pragma once
// Strong types for Kafka coordinates and the two input streams, so that a
// partition can never be passed where an offset is expected.

#include <cstdint>
#include <string>
#include <string_view>

namespace patternd::core {

enum class TopicKind : std::uint8_t { workflows, extractions };

std::string_view to_string(TopicKind kind);
bool parse_topic_kind(std::string_view text, TopicKind& out);

struct Partition {
  std::int32_t value = 0;
  friend auto operator<=>(const Partition&, const Partition&) = default;
};

struct Offset {
  std::int64_t value = 0;
  friend auto operator<=>(const Offset&, const Offset&) = default;
};

// Messages read from a file (`patternd ingest`) have no Kafka partition.
inline constexpr Partition k_file_partition{-1};

// Where a message came from: enough to name it in a dead letter and to store
// the next offset to consume.
struct SourcePosition {
  TopicKind kind = TopicKind::workflows;
  Partition partition = k_file_partition;
  Offset offset{};
};

}  // namespace patternd::core
