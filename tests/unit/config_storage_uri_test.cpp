#include <gtest/gtest.h>

#include "config/storage_uri.hpp"
#include "support/helpers.hpp"
#include "unit/config_load.hpp"

namespace patternd::config {
namespace {

TEST(ConfigStorage, SqliteIsTheDefaultAndIgnoresTheUri) {
  testing::TempDir dir;
  const auto defaults = load_text(dir, "");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->config.storage.type, "sqlite");
  EXPECT_EQ(defaults->config.storage.uri, "");
  const auto ignored = load_text(dir, "storage:\n  uri: not a uri at all\n");
  EXPECT_TRUE(ignored.ok()) << ignored.error().message;
}

TEST(ConfigStorage, PostgresqlTakesAUriLibpqAccepts) {
  testing::TempDir dir;
  for (const char* uri : {"postgresql://patternd:secret@db:5432/patternd", "postgres://db/patternd",
                          "postgresql:///patternd?host=/run/postgresql",
                          "postgresql://u:p%40ss@h/db?sslmode=require"}) {
    const auto c =
        load_text(dir, std::string("storage:\n  type: postgresql\n  uri: \"") + uri + "\"\n");
    ASSERT_TRUE(c.ok()) << uri << ": " << c.error().message;
    EXPECT_EQ(c->config.storage.type, "postgresql");
    EXPECT_EQ(c->config.storage.uri, uri);
  }
}

TEST(ConfigStorage, ABadTypeOrUriIsAnErrorNamingTheKeyWithoutThePassword) {
  testing::TempDir dir;
  const auto type = load_text(dir, "storage:\n  type: mysql\n");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.error().message, dir.file("c.yaml") +
                                      ":2: storage.type: expected one of sqlite, postgresql, "
                                      "got \"mysql\"");
  const auto missing = load_text(dir, "storage:\n  type: postgresql\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("storage.uri: storage.type postgresql needs a URI"),
            std::string::npos)
      << missing.error().message;
  const auto scheme =
      load_text(dir, "storage:\n  type: postgresql\n  uri: mysql://u:hunter2@h/d\n");
  ASSERT_FALSE(scheme.ok());
  EXPECT_EQ(scheme.error().message,
            dir.file("c.yaml") +
                ": storage.uri: expected a postgresql:// or postgres:// URI, got "
                "\"mysql://u:hunter2@h/d\"");
  // Not a URI libpq reads (its message quotes the bad token): masked anyway.
  const auto encoding =
      load_text(dir, "storage:\n  type: postgresql\n  uri: postgresql://u:hun%zzter2@h/d\n");
  ASSERT_FALSE(encoding.ok());
  EXPECT_NE(encoding.error().message.find("storage.uri: libpq cannot read"), std::string::npos)
      << encoding.error().message;
  EXPECT_NE(encoding.error().message.find("percent"), std::string::npos)
      << encoding.error().message;
  EXPECT_EQ(encoding.error().message.find("hun"), std::string::npos) << encoding.error().message;
}

TEST(ConfigStorage, TheEnvironmentOverridesTypeAndUri) {
  testing::TempDir dir;
  char type[] = "PATTERND_STORAGE_TYPE=postgresql";
  char uri[] = "PATTERND_STORAGE_URI=postgresql://w:from-env@db/patternd";
  char* environment[] = {type, uri, nullptr};
  const auto c =
      load_text(dir, "storage:\n  uri: postgresql://w:from-file@db/patternd\n", environment);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.storage.type, "postgresql");
  EXPECT_EQ(c->config.storage.uri, "postgresql://w:from-env@db/patternd");
  EXPECT_TRUE(c->unknown_variables.empty());
  const std::string yaml = to_yaml(c->config);
  EXPECT_NE(yaml.find("uri: postgresql://w:***@db/patternd\n"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("from-env"), std::string::npos) << yaml;
}

TEST(ConfigStorage, MaskPasswordHidesEveryPasswordAndNothingElse) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"postgresql://u:secret@h/db", "postgresql://u:***@h/db"},
      {"postgres://u:secret@h:5432/db?sslmode=require",
       "postgres://u:***@h:5432/db?sslmode=require"},
      // Percent-encoded '@' and ':' (as libpq wants them), and raw ones.
      {"postgresql://u:p%40ss%3Aword@h/db", "postgresql://u:***@h/db"},
      {"postgresql://u:p@ss:w@rd@h/db", "postgresql://u:***@h/db"},
      {"postgresql://u:a/b@h/db", "postgresql://u:***@h/db"},
      {"postgresql://u:my password=x@h/db", "postgresql://u:***@h/db"},
      {"postgresql://u@h/db", "postgresql://u@h/db"},
      {"postgresql:///db?host=/run/postgresql&user=u",
       "postgresql:///db?host=/run/postgresql&user=u"},
      {"postgresql://h/db?user=u&password=secret&sslmode=require",
       "postgresql://h/db?user=u&password=***&sslmode=require"},
      {"postgresql://u:one@h/db?password=two", "postgresql://u:***@h/db?password=***"},
      {"postgresql://h/db?sslpassword=key-pass", "postgresql://h/db?sslpassword=***"},
      {"host=h password=secret user=u", "host=h password=*** user=u"},
      {"host=h PASSWORD = 'se cret \\' x' dbname=d", "host=h PASSWORD = *** dbname=d"},
      {"", ""},
  };
  for (const auto& [uri, masked] : cases) EXPECT_EQ(mask_password(uri), masked) << uri;
}

TEST(ConfigStorage, RedactPasswordsTakesThePasswordOutOfAnyMessage) {
  const std::string uri = "postgresql://u:p%40ss%3Aword@h/db";
  EXPECT_EQ(redact_passwords("auth failed for p@ss:word and p%40ss%3Aword", uri),
            "auth failed for *** and ***");
  EXPECT_EQ(redact_passwords("nothing to hide", "postgresql://u@h/db"), "nothing to hide");
}

}  // namespace
}  // namespace patternd::config
