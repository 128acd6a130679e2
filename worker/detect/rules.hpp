#pragma once
// Operation detection rules, loaded from YAML (config/patterns.yaml): which
// words and phrases of a workflow's nl_input and workflow_template name a
// category (test, lint, deploy, ...), a tool (pytest, ruff, kubectl, ...) and
// a target (backend, staging, ...). Pure and immutable once loaded, so one
// Rules may be shared by threads.
//
// A workflow yields zero or more signatures "category:tool:target":
//  * each tool mentioned yields one signature per category of the tool that is
//    also mentioned, or its first category when none is;
//  * each category mentioned with no tool of its own yields category:any:target;
//  * the target is the first target of the rules file that is mentioned, else any.
// Matching is on lower-case words (runs of letters and digits), so
// "docker-compose", "Docker Compose" and "docker compose" are all the phrase
// "docker compose".

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

namespace patternd::detect {

class Rules {
 public:
  static core::Result<Rules> load(const std::string& path);
  // `origin` names the text in error messages (usually the file path).
  static core::Result<Rules> parse(const std::string& yaml_text, const std::string& origin);

  // SHA-256 (hex) of the rules file's content: stored with the pattern tables.
  const std::string& version() const { return m_version; }

  // Appends the workflow's signatures to `out` (sorted, no duplicates).
  void classify(std::string_view nl_input, std::string_view workflow_template,
                std::vector<std::string>& out) const;

  std::size_t category_count() const { return m_categories.size(); }
  std::size_t tool_count() const { return m_tools.size(); }
  std::size_t target_count() const { return m_targets.size(); }

 private:
  enum class Kind : std::uint8_t { category, tool, target };
  struct Phrase {
    std::vector<std::string> words;  // the first word is the index key
    Kind kind;
    std::uint32_t index;
  };
  struct Tool {
    std::string name;
    std::vector<std::uint32_t> categories;
  };

  void index_phrase(const std::string& text, Kind kind, std::uint32_t index);

  std::string m_version;
  std::vector<std::string> m_categories;
  std::vector<Tool> m_tools;
  std::vector<std::string> m_targets;
  struct WordHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view word) const {
      return std::hash<std::string_view>{}(word);
    }
  };
  std::unordered_map<std::string, std::vector<Phrase>, WordHash, std::equal_to<>>
      m_phrases_by_first_word;
};

// Splits into lower-case ASCII words (runs of letters and digits); other bytes,
// including all non-ASCII, separate words.
void split_words(std::string_view text, std::string& scratch, std::vector<std::string_view>& out);

}  // namespace patternd::detect
