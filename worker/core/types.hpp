#pragma once
// Strong types for Kafka coordinates, and the registry of stream kinds, so
// that a partition can never be passed where an offset is expected and a
// stream is named in one place.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace patternd::core {

// The streams patternd consumes. Adding one is: an entry below, its decoder
// (decode/), its detector (pipeline/processor.cpp), its migration (schema/)
// and its writer (store/); config keys, CLI names, metric label values and
// topic lookups follow from the entry (docs/architecture.md).
enum class TopicKind : std::uint8_t { workflows, extractions, outcomes, sessions, prompts };

struct StreamKind {
  TopicKind kind;
  std::string_view name;           // CLI (--topic, --kind), config key kafka.topics.<name>
  std::string_view default_topic;  // the default of kafka.topics.<name>
};

inline constexpr std::array<StreamKind, 5> k_stream_kinds{{
    {TopicKind::workflows, "workflows", "agent.workflows"},
    {TopicKind::extractions, "extractions", "agent.extractions"},
    {TopicKind::outcomes, "outcomes", "agent.outcomes"},
    {TopicKind::sessions, "sessions", "agent.sessions"},
    {TopicKind::prompts, "prompts", "agent.prompts"},
}};
inline constexpr std::size_t k_stream_kind_count = k_stream_kinds.size();

constexpr std::size_t index_of(TopicKind kind) { return static_cast<std::size_t>(kind); }
constexpr const StreamKind& stream_kind(TopicKind kind) { return k_stream_kinds[index_of(kind)]; }

std::string_view to_string(TopicKind kind);
std::optional<TopicKind> parse_topic_kind(std::string_view name);
// "workflows, extractions": for help texts and error messages.
std::string stream_kind_names(std::string_view separator = ", ");

// One value per stream kind, indexed by kind.
template <typename T>
using PerKind = std::array<T, k_stream_kind_count>;

struct Partition {
  std::int32_t value = 0;
  friend auto operator<=>(const Partition&, const Partition&) = default;
};

struct Offset {
  std::int64_t value = 0;
  friend auto operator<=>(const Offset&, const Offset&) = default;
};

// A partition of one stream: the key of per-partition state (stored offsets,
// lag, assignments).
struct TopicPartition {
  TopicKind kind = TopicKind::workflows;
  Partition partition;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
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
