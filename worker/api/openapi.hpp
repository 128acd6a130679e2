#pragma once
// The OpenAPI 3.1 description of the read API, served at /v1/openapi.json;
// the tests validate every response they get against it.

#include <string>

namespace patternd::api {

const std::string& openapi_document();

}  // namespace patternd::api
