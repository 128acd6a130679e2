#include "metrics/read_metrics.hpp"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace patternd::metrics {

ReadMetrics::ReadMetrics() : m_registry(std::make_shared<prometheus::Registry>()) {
  auto& lookups = prometheus::BuildCounter()
                      .Name("patternd_fix_lookups_total")
                      .Help(
                          "Error lookups answered (read API, query, MCP), by whether the "
                          "error had been seen before")
                      .Register(*m_registry);
  // Both series from the start, so that a ratio works at once.
  m_seen = &lookups.Add({{"result", "seen"}});
  m_unseen = &lookups.Add({{"result", "unseen"}});
}

std::string ReadMetrics::scrape() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, m_registry->Collect());
  return out.str();
}

}  // namespace patternd::metrics
