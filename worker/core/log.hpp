#pragma once
// The worker's log: one line per event worth a person's attention, never one
// per message. Text for a terminal ("run: 1,200 consumed, ..."), or JSON lines
// for a log pipeline, with the same facts as typed fields:
//   {"time":"2026-11-22T10:00:00.123Z","level":"info","logger":"run",
//    "msg":"1,200 consumed, ...","consumed":1200,...}
// Lines go to stderr whole (one write each), from any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace patternd::log {

enum class Level { debug, info, warn, error };
enum class Format { text, json };

// Once, at start-up, before other threads log. Names as in the config file
// ("debug".."error", "text"|"json"); anything else throws std::invalid_argument.
void configure(std::string_view level, std::string_view format);

bool enabled(Level level);

struct Field {
  std::string_view key;
  std::variant<std::int64_t, double, std::string_view> value;
};
using Fields = std::vector<Field>;

void write(Level level, std::string_view logger, std::string_view message,
           const Fields& fields = {});

inline void debug(std::string_view logger, std::string_view message, const Fields& fields = {}) {
  write(Level::debug, logger, message, fields);
}
inline void info(std::string_view logger, std::string_view message, const Fields& fields = {}) {
  write(Level::info, logger, message, fields);
}
inline void warn(std::string_view logger, std::string_view message, const Fields& fields = {}) {
  write(Level::warn, logger, message, fields);
}
inline void error(std::string_view logger, std::string_view message, const Fields& fields = {}) {
  write(Level::error, logger, message, fields);
}

// The line write() would print, without printing it (for tests).
std::string format_line(Format format, Level level, std::string_view logger,
                        std::string_view message, const Fields& fields, std::int64_t unix_ms);

}  // namespace patternd::log
