// What each storage.type can do today, and `migrate` on both backends.

#include "store/pg_connection.hpp"
#include "store/pg_schema.hpp"
#include "store/store.hpp"

namespace patternd::store {
namespace {

std::string unsupported_message(const std::string& backend, std::string_view command) {
  return "storage.type " + backend + ": " + std::string(command) +
         " is not supported yet (only migrate and check-config); see issue 21";
}

}  // namespace

UnsupportedBackend::UnsupportedBackend(std::string backend)
    : core::UsageError(unsupported_message(backend, "this command")),
      m_backend(std::move(backend)) {}

std::string UnsupportedBackend::message_for(std::string_view command) const {
  return unsupported_message(m_backend, command);
}

void require_supported_backend(const config::Config& config) {
  if (config.storage.type != "sqlite") throw UnsupportedBackend(config.storage.type);
}

core::Result<Migrated, OpenError> migrate(const config::Config& config) {
  if (config.storage.type == "postgresql") {
    auto connection = pg::Connection::connect(config.storage.uri);
    if (!connection) return OpenError{connection.error().message};
    auto report = pg::migrate(*connection.value());
    if (!report) return report.error();
    return Migrated{connection.value()->location(), report.value()};
  }
  auto store = open_store(config, Access::write);
  if (!store) return store.error();
  return Migrated{store.value()->location(), store.value()->migration()};
}

}  // namespace patternd::store
