#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/time.hpp"

namespace patternd::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::text};

std::string_view level_name(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

// The whole line in one write(2): lines from several threads never interleave.
void write_stderr(const std::string& line) {
  const char* data = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to complain to
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

void configure(std::string_view level, std::string_view format) {
  if (level == "debug")
    g_level = Level::debug;
  else if (level == "info")
    g_level = Level::info;
  else if (level == "warn")
    g_level = Level::warn;
  else if (level == "error")
    g_level = Level::error;
  else
    throw std::invalid_argument("log level must be debug, info, warn or error");
  if (format == "text")
    g_format = Format::text;
  else if (format == "json")
    g_format = Format::json;
  else
    throw std::invalid_argument("log format must be text or json");
}

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

std::string format_line(Format format, Level level, std::string_view logger,
                        std::string_view message, const Fields& fields, std::int64_t unix_ms) {
  if (format == Format::text) {
    std::string line;
    line.reserve(logger.size() + message.size() + 12);
    line.append(logger).append(": ");
    if (level == Level::warn) line.append("warning: ");
    if (level == Level::error) line.append("error: ");
    line.append(message).push_back('\n');
    return line;
  }
  nlohmann::ordered_json j;
  j["time"] = core::format_rfc3339(unix_ms);
  j["level"] = level_name(level);
  j["logger"] = logger;
  j["msg"] = message;
  for (const auto& field : fields)
    std::visit([&](const auto& v) { j[std::string(field.key)] = v; }, field.value);
  // Kafka's and SQLite's messages are not always valid UTF-8: replace, never throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void write(Level level, std::string_view logger, std::string_view message, const Fields& fields) {
  if (!enabled(level)) return;
  write_stderr(format_line(g_format.load(std::memory_order_relaxed), level, logger, message, fields,
                           core::now_ms()));
}

}  // namespace patternd::log
