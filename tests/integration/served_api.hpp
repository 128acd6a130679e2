#pragma once
// A database ingested from JSON lines and served by `patternd serve`, with
// every response checked against its /v1/openapi.json: the setup the read
// API tests of each stream share. The database is of either backend
// (support/test_store.hpp), so one suite runs its tests on both: TEST_P
// over backend_names(), one ServedApi per backend (ServedApiPerBackend).

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/helpers.hpp"
#include "support/openapi_check.hpp"
#include "support/test_store.hpp"

namespace patternd::testing {

class ServedApi {
 public:
  using Inputs = std::vector<std::pair<std::string, std::string>>;
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // Ingests each (topic, JSON lines) in order into a store of `backend`
  // ("sqlite" or "postgresql"), then starts `serve`. `extra` is YAML added
  // to the config; `headers` go with the request for the document (a token
  // when `extra` asks for one).
  ServedApi(const std::string& backend, const Inputs& inputs, const std::string& extra = "",
            const Headers& headers = {})
      : store(store_for(backend, dir, "served")) {
    config = write_config(dir, "patternd.yaml", "", extra + store->config_yaml());
    int n = 0;
    for (const auto& [topic, lines] : inputs) {
      const std::string file = dir.file("input-" + std::to_string(n++) + ".jsonl");
      write_file(file, lines);
      const auto r = run_patternd({"ingest", "--config", config, "--topic", topic, file});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    serve = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"serve", "--config", config}, dir.file("serve.log"));
    port = api_port(dir.file("serve.log"), 20);
    EXPECT_GT(port, 0) << read_file(dir.file("serve.log"));
    const auto doc = http_get(port, "/v1/openapi.json", headers);
    EXPECT_EQ(doc.status, 200);
    openapi = std::make_unique<OpenApiCheck>(doc.body);
  }

  // GET `target`: the status must be `status`, the body JSON valid against
  // the document's schema for the path `path_template` names.
  nlohmann::json call(const std::string& target, const std::string& path_template,
                      int status = 200) const {
    const auto r = http_get(port, target, {});
    EXPECT_EQ(r.status, status) << target << "\n" << r.body;
    nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << target << ": not JSON: " << r.body;
    for (const auto& e : openapi->errors(path_template, r.status, body))
      ADD_FAILURE() << target << ": " << e;
    return body;
  }

  static std::string encoded(const std::string& text) {
    std::string out;
    for (const unsigned char c : text) {
      if (std::isalnum(c)) {
        out.push_back(static_cast<char>(c));
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        out += hex;
      }
    }
    return out;
  }

  TempDir dir;
  std::unique_ptr<TestStore> store;  // in `dir`, or a database of its own
  std::string config;
  std::unique_ptr<BackgroundProcess> serve;
  int port = -1;
  std::unique_ptr<OpenApiCheck> openapi;
};

// The ServedApi of each backend a suite's tests ran on, built at the
// suite's first test of that backend: one ingest per backend, not per test.
// Cleared in TearDownTestSuite (before shared_postgres() stops at exit).
class ServedApiPerBackend {
 public:
  using Make = std::function<std::unique_ptr<ServedApi>(const std::string& backend)>;
  explicit ServedApiPerBackend(Make make) : m_make(std::move(make)) {}

  ServedApi& of(const std::string& backend) {
    std::unique_ptr<ServedApi>& api = m_apis[backend];
    if (!api) api = m_make(backend);
    return *api;
  }
  void clear() { m_apis.clear(); }

 private:
  Make m_make;
  std::map<std::string, std::unique_ptr<ServedApi>> m_apis;
};

// INSTANTIATE_TEST_SUITE_P's name generator: the backend ("sqlite", "postgresql").
inline std::string backend_of(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace patternd::testing
