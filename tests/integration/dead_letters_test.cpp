// `patternd dead-letters list|replay`: letters are queryable by reason and
// topic; after a limit is raised, replay stores what passes now (and removes
// its letter in the same transaction), keeps what still fails with its new
// reason, and ends in the database a run with the raised limit gives.
// Replaying again changes nothing. Every test runs on both backends
// (support/test_store.hpp).

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/helpers.hpp"
#include "support/test_store.hpp"

namespace patternd {
namespace {

using testing::TempDir;
using testing::TestStore;

std::int64_t one(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  return d.execAndGet(sql).getInt64();
}

class DeadLetters : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<TestStore> store_in(const TempDir& dir) const {
    return testing::store_for(GetParam(), dir, "letters");
  }
  static std::string config_in(const TestStore& store, const TempDir& dir, const std::string& name,
                               const std::string& extra = "") {
    return testing::write_config(dir, name, "", extra + store.config_yaml());
  }
};

TEST_P(DeadLetters, TooLargeLettersPassAfterTheLimitIsRaisedAndReplayingTwiceChangesNothing) {
  TempDir dir;
  const auto store = store_in(dir);
  const auto generated = testing::run_patternd({"produce", "--kind", "workflows", "--count", "600",
                                                "--seed", "51", "--invalid", "0.03", "--start",
                                                "2026-11-01T00:00:00Z", "--output", "-"});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  // Every 10th valid workflow grows past 1,024 bytes; every 50th also loses
  // its workflow_id, so it will still fail once size is no longer the reason.
  std::string lines;
  int valid = 0, padded = 0, broken = 0;
  std::istringstream in(generated.out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("workflow_id") && ++valid % 10 == 0) {
      j["notes"] = std::string(1500, 'x');
      ++padded;
      if (valid % 50 == 0) {
        j.erase("workflow_id");
        ++broken;
      }
      line = j.dump();
    }
    lines += line + "\n";
  }
  ASSERT_GT(padded, 40);
  ASSERT_GT(broken, 5);
  testing::write_file(dir.file("wf.jsonl"), lines);

  auto ingest = [&](const std::string& config) {
    const auto r = testing::run_patternd(
        {"ingest", "--config", config, "--topic", "workflows", dir.file("wf.jsonl")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  const std::string strict =
      config_in(*store, dir, "strict.yaml", "limits:\n  max_message_bytes: 1024\n");
  ingest(strict);
  std::string db = store->sqlite_copy();
  ASSERT_EQ(one(db, "SELECT count(*) FROM dead_letters WHERE reason_class = 'too_large'"), padded);
  const std::int64_t other_letters =
      one(db, "SELECT count(*) FROM dead_letters WHERE reason_class != 'too_large'");
  EXPECT_GT(other_letters, 0);

  // list: by reason, as JSON with payloads.
  const auto listed = testing::run_patternd({"dead-letters", "list", "--config", strict, "--reason",
                                             "too_large", "--limit", "1000", "--format", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto letters = nlohmann::json::parse(listed.out);
  ASSERT_EQ(static_cast<int>(letters.size()), padded);
  for (const auto& l : letters) {
    EXPECT_EQ(l["reason_class"], "too_large");
    EXPECT_EQ(l["topic"], "agent.workflows");
    EXPECT_GT(l["payload_size"].get<int>(), 1024);
    EXPECT_FALSE(l["payload_truncated"].get<bool>());
  }
  const auto text =
      testing::run_patternd({"dead-letters", "list", "--config", strict, "--topic", "extractions"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("0 of 0 matching"), std::string::npos) << text.out;
  EXPECT_EQ(
      testing::run_patternd({"dead-letters", "list", "--config", strict, "--since", "yesterday"})
          .exit_code,
      2);

  // The limit is raised; replay.
  const std::string relaxed =
      config_in(*store, dir, "relaxed.yaml", "limits:\n  max_message_bytes: 4096\n");
  const auto replayed = testing::run_patternd({"dead-letters", "replay", "--config", relaxed});
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  EXPECT_NE(replayed.out.find(std::to_string(padded - broken) + " now pass"), std::string::npos)
      << replayed.out;
  db = store->sqlite_copy();
  EXPECT_EQ(one(db, "SELECT count(*) FROM dead_letters WHERE reason_class = 'too_large'"), 0);
  // The padded ones without an id stay, with their new reason; the rest are untouched.
  EXPECT_EQ(one(db,
                "SELECT count(*) FROM dead_letters WHERE reason_class = 'missing_field' AND "
                "payload_size > 1024"),
            broken);
  EXPECT_EQ(one(db, "SELECT count(*) FROM dead_letters"), other_letters + broken);

  // The same database as ingesting with the raised limit in the first place.
  TempDir clean;
  const auto clean_store = store_in(clean);
  const std::string clean_config =
      config_in(*clean_store, clean, "clean.yaml", "limits:\n  max_message_bytes: 4096\n");
  ingest(clean_config);
  const std::string after_one = testing::canonical_database(db);
  EXPECT_EQ(after_one, clean_store->canonical());

  // Replaying again changes nothing.
  const auto again = testing::run_patternd({"dead-letters", "replay", "--config", relaxed});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(" 0 now pass"), std::string::npos) << again.out;
  EXPECT_EQ(store->canonical(), after_one);
}

TEST_P(DeadLetters, AFileSourcedLetterNamesItsFileAndLine) {
  TempDir dir;
  const auto store = store_in(dir);
  const std::string config = config_in(*store, dir, "patternd.yaml");
  const std::string input = dir.file("batch.jsonl");
  testing::write_file(input,
                      "{\"workflow_id\": \"a\", \"nl_input\": \"Run pytest\"}\n"
                      "\n"
                      "{\"workflow_id\": \"b\"}\n"  // line 3: no nl_input
                      "{\"workflow_id\": \"c\", \"nl_input\": \"Run ruff\"}\n"
                      "not json\n");  // line 5
  const auto ingest =
      testing::run_patternd({"ingest", "--config", config, "--topic", "workflows", input});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;

  const auto json =
      testing::run_patternd({"dead-letters", "list", "--config", config, "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto letters = nlohmann::json::parse(json.out);
  ASSERT_EQ(letters.size(), 2u) << json.out;
  EXPECT_EQ(letters[0]["source_file"], input);
  EXPECT_EQ(letters[0]["source_line"], 3);
  EXPECT_EQ(letters[0]["reason_class"], "missing_field");
  EXPECT_EQ(letters[1]["source_file"], input);
  EXPECT_EQ(letters[1]["source_line"], 5);

  const auto text = testing::run_patternd({"dead-letters", "list", "--config", config});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(input + ":3"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(input + ":5"), std::string::npos) << text.out;

  // Ingesting the same file again keeps one letter each, where first seen.
  ASSERT_EQ(testing::run_patternd({"ingest", "--config", config, "--topic", "workflows", input})
                .exit_code,
            0);
  EXPECT_EQ(store->count("dead_letters"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeadLetters, ::testing::ValuesIn(testing::backend_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace patternd
