#pragma once
// One function per endpoint of the read API: parameters in, JSON out.
// Throws BadRequest (400), NotFound (404); the reader's Unavailable (503).

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "api/json.hpp"
#include "api/params.hpp"
#include "store/reader.hpp"

namespace patternd::api {

struct NotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The path's segments after /v1/, each percent-decoded ("patterns",
// "test:pytest:backend"); BadRequest when one cannot be decoded.
std::vector<std::string> path_segments(std::string_view path);

// Told of every answered error lookup: whether the error was seen before.
using LookupObserver = std::function<void(bool seen)>;

// Answers GET /v1/<segments>?<query>; NotFound for a path that is no endpoint.
Json resource(store::Reader& reader, const std::vector<std::string>& segments,
              std::string_view query, const LookupObserver& on_lookup = {});

}  // namespace patternd::api
