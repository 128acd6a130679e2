#pragma once
// The read API's JSON for each kind of row (the shapes of openapi.cpp):
// times RFC 3339 UTC with milliseconds, money in USD, digests in hex.

#include <nlohmann/json.hpp>

#include "store/reader.hpp"

namespace patternd::api {

using Json = nlohmann::ordered_json;

Json to_json(const store::PatternRow& row);
Json to_json(const store::PatternDetail& detail);
Json to_json(const store::FailureRow& row);
Json to_json(const store::ExtractionRow& row);
Json to_json(const store::SessionRow& row);
Json to_json(const store::StateChange& change);
Json to_json(const store::SessionDetail& detail);
Json to_json(const store::CodeBlockRow& row);
Json to_json(const store::AgentRow& row);
Json to_json(const store::AgentStats& stats);
Json to_json(const store::TimelineBucket& bucket);
Json to_json(const store::FixRow& row);
Json to_json(const store::OutcomeStatsRow& row);
Json to_json(const store::PromptRow& row);
Json to_json(const store::PromptStatsRow& row);

Json time_or_null(const std::optional<core::TimestampMs>& t);

// One line of JSON. Text from a request or the database may not be valid
// UTF-8 (an escape of a lone surrogate, a stored byte): replaced, never a
// reason to fail.
std::string compact(const Json& json);

}  // namespace patternd::api
