#include "app/api_server.hpp"

#include "core/log.hpp"
#include "store/reader.hpp"
#include "web/assets.hpp"

namespace patternd::app {

ApiServer start_api(const config::Config& config, metrics::ReadMetrics& read_metrics,
                    bool serve_metrics) {
  ApiServer out;
  out.api =
      std::make_unique<api::Api>(config.api, [&config] { return store::open_reader(config); });
  out.api->on_lookup([&read_metrics](bool seen) { read_metrics.fix_lookup(seen); });
  if (config.api.listen.empty()) return out;
  api::Api* api = out.api.get();
  out.server = std::make_unique<http::Server>(
      config.api.listen, "api.listen",
      [api, &read_metrics, serve_metrics](const http::Request& r) -> http::Response {
        if (serve_metrics && r.path() == "/metrics")
          return {
              200, "text/plain; version=0.0.4; charset=utf-8", read_metrics.scrape(), {}, nullptr};
        if (auto page = web::asset(r.path())) return *std::move(page);
        return api->handle(r);
      });
  const std::string host = config.api.listen.substr(0, config.api.listen.rfind(':'));
  const std::string page = "http://" + host + ":" + std::to_string(out.server->port()) + "/";
  const std::string url = page + "v1/";
  log::info("api",
            "read API on " + url + (config.api.tokens.empty() ? "" : " (bearer tokens required)") +
                ", the page on " + page,
            {{"api_url", url}, {"page_url", page}});
  return out;
}

}  // namespace patternd::app
