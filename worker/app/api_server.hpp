#pragma once
// The read API on api.listen, as `run` and `serve` start it.

#include <memory>

#include "api/api.hpp"
#include "config/config.hpp"
#include "http/server.hpp"

namespace patternd::app {

struct ApiServer {
  std::unique_ptr<api::Api> api;
  std::unique_ptr<http::Server> server;  // null when api.listen is empty
};

// Throws std::runtime_error when api.listen cannot be served.
ApiServer start_api(const config::Config& config);

}  // namespace patternd::app
