#include <gtest/gtest.h>

#include "detect/rules.hpp"
#include "support/helpers.hpp"

namespace patternd::detect {
namespace {

std::vector<std::string> classify(const Rules& rules, std::string_view input,
                                  std::string_view template_name = "") {
  std::vector<std::string> out;
  rules.classify(input, template_name, out);
  return out;
}

class ShippedRules : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = Rules::load(testing::source_path("config/patterns.yaml"));
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    m_rules = std::make_unique<Rules>(std::move(loaded).value());
  }
  std::unique_ptr<Rules> m_rules;
};

using Sigs = std::vector<std::string>;

TEST_F(ShippedRules, NameCategoryToolAndTarget) {
  EXPECT_EQ(classify(*m_rules, "Run backend tests with pytest"), Sigs{"test:pytest:backend"});
  EXPECT_EQ(classify(*m_rules, "Lint the frontend with ESLint"), Sigs{"lint:eslint:frontend"});
  EXPECT_EQ(classify(*m_rules, "Deploy the api to staging with kubectl"),
            Sigs{"deploy:kubectl:staging"});
}

TEST_F(ShippedRules, GiveSeveralSignaturesWhenSeveralApply) {
  EXPECT_EQ(classify(*m_rules, "Install pip requirements and run pytest for the backend"),
            (Sigs{"install:pip:backend", "test:pytest:backend"}));
  EXPECT_EQ(classify(*m_rules, "Run eslint and prettier on the frontend"),
            (Sigs{"format:prettier:frontend", "lint:eslint:frontend"}));
}

TEST_F(ShippedRules, PickTheToolsCategoryThatIsMentioned) {
  EXPECT_EQ(classify(*m_rules, "npm test"), Sigs{"test:npm:any"});
  EXPECT_EQ(classify(*m_rules, "npm install"), Sigs{"install:npm:any"});
  EXPECT_EQ(classify(*m_rules, "npm"), Sigs{"install:npm:any"});
  EXPECT_EQ(classify(*m_rules, "Build the docker image"), Sigs{"build:docker:any"});
}

TEST_F(ShippedRules, UseAnyForWhatIsNotDetected) {
  EXPECT_EQ(classify(*m_rules, "Fix the failing tests"), Sigs{"test:any:any"});
  EXPECT_EQ(classify(*m_rules, "Write a poem"), Sigs{});
}

TEST_F(ShippedRules, ReadTheTemplateAndPhrasesAcrossPunctuation) {
  EXPECT_EQ(classify(*m_rules, "Fix CI", "adw_test"), Sigs{"test:any:any"});
  EXPECT_EQ(classify(*m_rules, "Run go-test on the CLI"), Sigs{"test:go:cli"});
  EXPECT_EQ(classify(*m_rules, "bring up docker-compose"), Sigs{"build:docker:any"});
}

TEST(DetectRules, TheVersionIsTheContentHash) {
  const std::string text = "categories:\n  test: [test]\n";
  auto a = Rules::parse(text, "a.yaml");
  auto b = Rules::parse(text + "# comment\n", "b.yaml");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->version().size(), 64u);
  EXPECT_NE(a->version(), b->version());
  EXPECT_EQ(a->version(), Rules::parse(text, "c.yaml")->version());
}

TEST(DetectRules, ErrorsNameTheFileLineAndProblem) {
  auto unknown = Rules::parse("categories:\n  test: [test]\nsynonyms: {}\n", "r.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "r.yaml:3: synonyms: unknown key (known: categories, tools, targets)");

  auto bad_category = Rules::parse(
      "categories:\n  test: [test]\ntools:\n  ruff: {categories: [lint], keywords: [ruff]}\n",
      "r.yaml");
  ASSERT_FALSE(bad_category.ok());
  EXPECT_NE(bad_category.error().message.find(
                "r.yaml:4: tools.ruff.categories: \"lint\" is not one of the categories"),
            std::string::npos)
      << bad_category.error().message;

  auto empty_phrase = Rules::parse("categories:\n  test: [\"--\"]\n", "r.yaml");
  ASSERT_FALSE(empty_phrase.ok());
  EXPECT_NE(empty_phrase.error().message.find("has no letters or digits"), std::string::npos);

  auto bad_name = Rules::parse("categories:\n  \"te:st\": [test]\n", "r.yaml");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.error().message.find("not a valid name"), std::string::npos);
}

}  // namespace
}  // namespace patternd::detect
