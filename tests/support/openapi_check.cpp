#include "support/openapi_check.hpp"

#include <regex>

#include "core/time.hpp"

namespace patternd::testing {
namespace {

bool has_type(const nlohmann::json& value, const std::string& type) {
  if (type == "null") return value.is_null();
  if (type == "string") return value.is_string();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  return false;
}

}  // namespace

OpenApiCheck::OpenApiCheck(const std::string& document)
    : m_document(nlohmann::json::parse(document)) {}

std::vector<std::string> OpenApiCheck::errors(const std::string& path, int status,
                                              const nlohmann::json& body) const {
  std::vector<std::string> out;
  const auto& paths = m_document.at("paths");
  if (!paths.contains(path)) return {"no path " + path + " in the document"};
  const auto& responses = paths.at(path).at("get").at("responses");
  const std::string code = std::to_string(status);
  if (!responses.contains(code)) return {path + ": no response " + code + " in the document"};
  const auto& content = responses.at(code).at("content");
  const std::string type = content.contains("application/json") ? "application/json"
                           : content.empty()                    ? ""
                                                                : content.begin().key();
  if (type.empty()) return {path + ": no content for " + code};
  check(content.at(type).at("schema"), body, "$", out);
  return out;
}

void OpenApiCheck::check(const nlohmann::json& schema, const nlohmann::json& value,
                         const std::string& where, std::vector<std::string>& out) const {
  if (schema.contains("$ref")) {
    const std::string ref = schema["$ref"];
    const std::string prefix = "#/components/schemas/";
    if (ref.rfind(prefix, 0) != 0) {
      out.push_back(where + ": unsupported $ref " + ref);
      return;
    }
    check(m_document.at("components").at("schemas").at(ref.substr(prefix.size())), value, where,
          out);
    return;
  }
  if (schema.contains("oneOf")) {
    int matches = 0;
    for (const auto& option : schema["oneOf"]) {
      std::vector<std::string> errors;
      check(option, value, where, errors);
      if (errors.empty()) ++matches;
    }
    if (matches != 1)
      out.push_back(where + ": matches " + std::to_string(matches) + " of oneOf, not 1");
    return;
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& choice : schema["enum"]) found |= choice == value;
    if (!found) out.push_back(where + ": " + value.dump() + " is not in " + schema["enum"].dump());
  }
  if (schema.contains("type")) {
    bool ok = false;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) ok |= has_type(value, t.get<std::string>());
    } else {
      ok = has_type(value, schema["type"].get<std::string>());
    }
    if (!ok) {
      out.push_back(where + ": " + value.dump().substr(0, 80) + " is not of type " +
                    schema["type"].dump());
      return;
    }
  }
  if (schema.contains("format") && value.is_string()) {
    const std::string text = value;
    const std::string format = schema["format"];
    if (format == "date-time" &&
        (!core::parse_rfc3339(text) ||
         !std::regex_match(text, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"))))
      out.push_back(where + ": \"" + text + "\" is not an RFC 3339 UTC time with milliseconds");
    if (format == "date" && !std::regex_match(text, std::regex(R"(\d{4}-\d\d-\d\d)")))
      out.push_back(where + ": \"" + text + "\" is not a date");
  }
  if (value.is_object()) {
    const auto properties = schema.value("properties", nlohmann::json::object());
    for (const auto& name : schema.value("required", nlohmann::json::array()))
      if (!value.contains(name.get<std::string>()))
        out.push_back(where + ": missing " + name.get<std::string>());
    for (const auto& [name, item] : value.items()) {
      if (properties.contains(name)) {
        check(properties[name], item, where + "." + name, out);
      } else if (schema.contains("additionalProperties")) {
        const auto& extra = schema["additionalProperties"];
        if (extra.is_boolean() && !extra.get<bool>())
          out.push_back(where + ": unexpected property " + name);
        else if (extra.is_object())
          check(extra, item, where + "." + name, out);
      }
    }
  }
  if (value.is_array() && schema.contains("items"))
    for (std::size_t i = 0; i < value.size(); ++i)
      check(schema["items"], value[i], where + "[" + std::to_string(i) + "]", out);
}

}  // namespace patternd::testing
