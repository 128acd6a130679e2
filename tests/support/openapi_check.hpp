#pragma once
// Checks a JSON response against the schema that /v1/openapi.json gives for
// it: the subset of JSON Schema the document uses ($ref, type, enum,
// properties, required, additionalProperties, items, oneOf, format
// date-time and date). A small checker of our own: Debian has no C++ JSON
// Schema validator.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace patternd::testing {

class OpenApiCheck {
 public:
  explicit OpenApiCheck(const std::string& document);

  // What is wrong with `body` as the `status` response of GET `path`
  // (the document's template: "/v1/sessions/{id}"); empty when it is valid.
  // A streamed response (no application/json content) is checked one entry
  // (an SSE event's data, an NDJSON line) at a time.
  std::vector<std::string> errors(const std::string& path, int status,
                                  const nlohmann::json& body) const;

  const nlohmann::json& document() const { return m_document; }

 private:
  void check(const nlohmann::json& schema, const nlohmann::json& value, const std::string& where,
             std::vector<std::string>& out) const;
  nlohmann::json m_document;
};

}  // namespace patternd::testing
