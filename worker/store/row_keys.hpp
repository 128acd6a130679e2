#pragma once
// The compact keys raw rows are deduplicated on (schema version 3): 64 bits
// of a SHA-256, as a signed integer, so that the unique indexes hold 8-byte
// integers instead of 32-byte digests or long ids. A key can be shared by
// two different rows (a 64-bit collision); the writer handles that case
// exactly (batch_writer.cpp), the key only makes the common case cheap.
//
// Since schema version 4 the stored key is packed: bits 62..44 hold the
// generation the row was stored in (key_space.hpp), bits 43..0 the top 44
// bits of that hash. Ordered by generation first, a new key lands next to
// the newest keys, not at a random page of the index.

#include <sqlite3.h>

#include <cstdint>
#include <string_view>

#include "core/sha256.hpp"

namespace patternd::store {

// The first 8 bytes of `digest`, big-endian.
std::int64_t digest_key(const core::Digest& digest);

// digest_key(SHA-256(text)): the key of a workflow_id.
std::int64_t text_key(std::string_view text);

inline constexpr int k_key_hash_bits = 44;
inline constexpr std::uint64_t k_key_hash_mask = (std::uint64_t{1} << k_key_hash_bits) - 1;
inline constexpr std::uint32_t k_max_key_generation = (1u << (63 - k_key_hash_bits)) - 1;

// The 44 bits of a digest_key() or text_key() that a packed key keeps.
inline std::uint64_t key_hash(std::int64_t key) {
  return static_cast<std::uint64_t>(key) >> (64 - k_key_hash_bits);
}

// The stored key of `hash` in `generation` (1 .. k_max_key_generation), and back.
inline std::int64_t pack_key(std::uint32_t generation, std::uint64_t hash) {
  return static_cast<std::int64_t>(std::uint64_t{generation} << k_key_hash_bits |
                                   (hash & k_key_hash_mask));
}
inline std::uint32_t key_generation(std::int64_t packed) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(packed) >> k_key_hash_bits);
}
inline std::uint64_t packed_hash(std::int64_t packed) {
  return static_cast<std::uint64_t>(packed) & k_key_hash_mask;
}

// patternd_text_key(TEXT) and patternd_digest_key(BLOB) in SQL, for the
// migration that builds the keys of existing rows.
void register_key_functions(sqlite3* db);

}  // namespace patternd::store
