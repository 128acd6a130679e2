#pragma once
// What the read API is asked, for operators: how often an agent's error
// lookup finds an error seen before (patternd_fix_lookups_total). `run`
// appends these to its /metrics; `serve` answers them on api.listen at
// /metrics, so that every process agents ask is counted.

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace patternd::metrics {

class ReadMetrics {
 public:
  ReadMetrics();
  void fix_lookup(bool seen) { (seen ? m_seen : m_unseen)->Increment(); }
  std::string scrape() const;  // the text exposition format

 private:
  std::shared_ptr<prometheus::Registry> m_registry;
  prometheus::Counter* m_seen = nullptr;
  prometheus::Counter* m_unseen = nullptr;
};

}  // namespace patternd::metrics
