#pragma once
// The read API on api.listen, as `run` and `serve` start it.

#include <memory>

#include "api/api.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "metrics/read_metrics.hpp"

namespace patternd::app {

struct ApiServer {
  std::unique_ptr<api::Api> api;
  std::unique_ptr<http::Server> server;  // null when api.listen is empty
};

// Throws std::runtime_error when api.listen cannot be served. Lookups are
// counted in `read_metrics`; with `serve_metrics` (the `serve` command, which
// has no metrics endpoint of its own) GET /metrics on api.listen answers
// them, without a token, as Prometheus scrapes.
ApiServer start_api(const config::Config& config, metrics::ReadMetrics& read_metrics,
                    bool serve_metrics);

}  // namespace patternd::app
