#include "store/row_keys.hpp"

namespace patternd::store {
namespace {

std::int64_t first_8_bytes(const std::uint8_t* bytes) {
  std::uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = (key << 8) | bytes[i];
  return static_cast<std::int64_t>(key);
}

void sql_text_key(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const auto size = static_cast<std::size_t>(sqlite3_value_bytes(argv[0]));
  sqlite3_result_int64(context, text_key(std::string_view(text, size)));
}

void sql_digest_key(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_bytes(argv[0]) < 8) return sqlite3_result_null(context);
  sqlite3_result_int64(
      context, first_8_bytes(static_cast<const std::uint8_t*>(sqlite3_value_blob(argv[0]))));
}

}  // namespace

std::int64_t digest_key(const core::Digest& digest) { return first_8_bytes(digest.data()); }

std::int64_t text_key(std::string_view text) {
  thread_local core::Sha256 sha;
  return digest_key(sha.add_bytes(text).finish());
}

void register_key_functions(sqlite3* db) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  sqlite3_create_function_v2(db, "patternd_text_key", 1, flags, nullptr, sql_text_key, nullptr,
                             nullptr, nullptr);
  sqlite3_create_function_v2(db, "patternd_digest_key", 1, flags, nullptr, sql_digest_key, nullptr,
                             nullptr, nullptr);
}

}  // namespace patternd::store
