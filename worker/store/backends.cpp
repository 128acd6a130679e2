// Where storage.type chooses a backend: the store, the reader, `migrate`.

#include "config/storage_uri.hpp"
#include "store/pg_connection.hpp"
#include "store/pg_reader.hpp"
#include "store/pg_schema.hpp"
#include "store/pg_store.hpp"
#include "store/sqlite_store.hpp"
#include "store/store.hpp"

namespace patternd::store {

core::Result<std::unique_ptr<Store>, OpenError> open_store(const config::Config& config,
                                                           Access access) {
  if (config.storage.type == "postgresql") return pg::open_store(config, access);
  return open_sqlite_store(config, access);
}

core::Result<std::unique_ptr<Reader>, OpenError> open_reader(const config::Config& config) {
  if (config.storage.type == "postgresql") return pg::open_reader(config);
  return open_sqlite_reader(config);
}

std::string location_of(const config::Config& config) {
  if (config.storage.type == "postgresql") return config::mask_password(config.storage.uri);
  return config.storage.path;
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
