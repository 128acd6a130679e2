#pragma once
// The compact keys raw rows are deduplicated on (schema version 3): 64 bits
// of a SHA-256, as a signed integer, so that the unique indexes hold 8-byte
// integers instead of 32-byte digests or long ids. A key can be shared by
// two different rows (a 64-bit collision); the writer handles that case
// exactly (batch_writer.cpp), the key only makes the common case cheap.

#include <sqlite3.h>

#include <cstdint>
#include <string_view>

#include "core/sha256.hpp"

namespace patternd::store {

// The first 8 bytes of `digest`, big-endian.
std::int64_t digest_key(const core::Digest& digest);

// digest_key(SHA-256(text)): the key of a workflow_id.
std::int64_t text_key(std::string_view text);

// patternd_text_key(TEXT) and patternd_digest_key(BLOB) in SQL, for the
// migration that builds the keys of existing rows.
void register_key_functions(sqlite3* db);

}  // namespace patternd::store
