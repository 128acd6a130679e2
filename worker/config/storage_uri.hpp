#pragma once
// storage.uri: checking it against storage.type, and showing it without its
// password. A PostgreSQL URI carries the database password as often as not
// (postgresql://patternd:secret@db/patternd); every message, log line and
// printed config shows it through mask_password, never as it was given.

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace patternd::config {

// The URI (or libpq keyword string) with every password replaced by ***:
// the one in the user information (postgresql://u:***@h/db) and the value of
// each password= keyword (?password=***, or password=*** in key=value form).
// Anything it cannot read as a password is left as it is; an '@' or ':' in a
// password, percent-encoded or not, stays inside the mask.
std::string mask_password(std::string_view uri);

// `message` (such as libpq's own error text) with every password that `uri`
// holds, as written and percent-decoded, replaced by ***.
std::string redact_passwords(std::string message, std::string_view uri);

// What is wrong with the storage section, or nothing: postgresql needs a URI
// libpq accepts (postgresql:// or postgres://); sqlite ignores storage.uri.
// The message names the key and shows the URI masked.
std::optional<std::string> check_storage(const Storage& storage);

}  // namespace patternd::config
