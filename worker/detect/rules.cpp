#include "detect/rules.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/sha256.hpp"

namespace patternd::detect {

using core::Error;

void split_words(std::string_view text, std::string& scratch, std::vector<std::string_view>& out) {
  scratch.assign(text);
  out.clear();
  std::size_t start = std::string::npos;
  for (std::size_t i = 0; i <= scratch.size(); ++i) {
    const char c = i < scratch.size() ? scratch[i] : ' ';
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    if (alnum) {
      if (c >= 'A' && c <= 'Z') scratch[i] = static_cast<char>(c - 'A' + 'a');
      if (start == std::string::npos) start = i;
    } else if (start != std::string::npos) {
      out.emplace_back(scratch.data() + start, i - start);
      start = std::string::npos;
    }
  }
}

namespace {

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

Error at(const std::string& origin, const YAML::Node& node, const std::string& message) {
  return Error{origin + ":" + std::to_string(node.Mark().line + 1) + ": " + message};
}

}  // namespace

core::Result<Rules> Rules::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot read the detection rules file (detection.rules)"};
  std::stringstream content;
  content << in.rdbuf();
  return parse(content.str(), path);
}

void Rules::index_phrase(const std::string& text, Kind kind, std::uint32_t index) {
  std::string scratch;
  std::vector<std::string_view> words;
  split_words(text, scratch, words);
  Phrase phrase{{words.begin(), words.end()}, kind, index};
  m_phrases_by_first_word[phrase.words.front()].push_back(std::move(phrase));
}

core::Result<Rules> Rules::parse(const std::string& yaml_text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    return Error{origin + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg};
  }
  if (!root.IsMap()) return Error{origin + ": expected a mapping with categories, tools, targets"};
  for (const auto& entry : root) {
    const auto key = entry.first.as<std::string>();
    if (key != "categories" && key != "tools" && key != "targets")
      return at(origin, entry.first, key + ": unknown key (known: categories, tools, targets)");
  }

  Rules rules;
  rules.m_version = core::to_hex(core::Sha256().add_bytes(yaml_text).finish());

  // Every phrase must produce at least one word, or it could never match.
  auto phrases_of = [&](const YAML::Node& list, const std::string& where,
                        std::vector<std::string>& out) -> std::optional<Error> {
    if (!list || !list.IsSequence() || list.size() == 0)
      return at(origin, list ? list : root,
                where + ": expected a non-empty list of words or phrases");
    for (const auto& item : list) {
      if (!item.IsScalar()) return at(origin, item, where + ": expected a word or phrase");
      std::string scratch;
      std::vector<std::string_view> words;
      split_words(item.Scalar(), scratch, words);
      if (words.empty())
        return at(origin, item, where + ": \"" + item.Scalar() + "\" has no letters or digits");
      out.push_back(item.Scalar());
    }
    return std::nullopt;
  };

  const YAML::Node categories = root["categories"];
  if (!categories || !categories.IsMap() || categories.size() == 0)
    return Error{origin + ": categories: expected a mapping of category name to keywords"};
  for (const auto& entry : categories) {
    const auto name = entry.first.as<std::string>();
    if (!valid_name(name))
      return at(origin, entry.first,
                "categories: \"" + name + "\" is not a valid name (a-z 0-9 _ - .)");
    std::vector<std::string> phrases;
    if (auto e = phrases_of(entry.second, "categories." + name, phrases)) return *e;
    const auto index = static_cast<std::uint32_t>(rules.m_categories.size());
    rules.m_categories.push_back(name);
    for (const auto& p : phrases) rules.index_phrase(p, Kind::category, index);
  }

  const YAML::Node tools = root["tools"];
  if (tools && !tools.IsMap())
    return at(origin, tools, "tools: expected a mapping of tool name to {categories, keywords}");
  for (const auto& entry : tools) {
    const auto name = entry.first.as<std::string>();
    const std::string where = "tools." + name;
    if (!valid_name(name))
      return at(origin, entry.first, "tools: \"" + name + "\" is not a valid name (a-z 0-9 _ - .)");
    if (!entry.second.IsMap())
      return at(origin, entry.second, where + ": expected {categories: [...], keywords: [...]}");
    for (const auto& field : entry.second) {
      const auto key = field.first.as<std::string>();
      if (key != "categories" && key != "keywords")
        return at(origin, field.first,
                  where + "." + key + ": unknown key (known: categories, keywords)");
    }
    Tool tool{name, {}};
    std::vector<std::string> category_names;
    if (auto e = phrases_of(entry.second["categories"], where + ".categories", category_names))
      return *e;
    for (const auto& category : category_names) {
      const auto it = std::find(rules.m_categories.begin(), rules.m_categories.end(), category);
      if (it == rules.m_categories.end())
        return at(origin, entry.second["categories"],
                  where + ".categories: \"" + category + "\" is not one of the categories");
      tool.categories.push_back(static_cast<std::uint32_t>(it - rules.m_categories.begin()));
    }
    std::vector<std::string> keywords;
    if (auto e = phrases_of(entry.second["keywords"], where + ".keywords", keywords)) return *e;
    const auto index = static_cast<std::uint32_t>(rules.m_tools.size());
    rules.m_tools.push_back(std::move(tool));
    for (const auto& p : keywords) rules.index_phrase(p, Kind::tool, index);
  }

  const YAML::Node targets = root["targets"];
  if (targets && !targets.IsMap())
    return at(origin, targets, "targets: expected a mapping of target name to keywords");
  for (const auto& entry : targets) {
    const auto name = entry.first.as<std::string>();
    if (!valid_name(name))
      return at(origin, entry.first,
                "targets: \"" + name + "\" is not a valid name (a-z 0-9 _ - .)");
    std::vector<std::string> phrases;
    if (auto e = phrases_of(entry.second, "targets." + name, phrases)) return *e;
    const auto index = static_cast<std::uint32_t>(rules.m_targets.size());
    rules.m_targets.push_back(name);
    for (const auto& p : phrases) rules.index_phrase(p, Kind::target, index);
  }
  return rules;
}

void Rules::classify(std::string_view nl_input, std::string_view workflow_template,
                     std::vector<std::string>& out) const {
  // Scratch space reused across calls on the same thread: no allocation per
  // workflow once warm.
  thread_local std::string scratch;
  thread_local std::vector<std::string_view> words;
  thread_local std::vector<bool> category_seen, tool_seen, category_done;
  category_seen.assign(m_categories.size(), false);
  tool_seen.assign(m_tools.size(), false);
  std::size_t target = m_targets.size();  // none yet

  for (const std::string_view text : {nl_input, workflow_template}) {
    split_words(text, scratch, words);
    for (std::size_t i = 0; i < words.size(); ++i) {
      const auto it = m_phrases_by_first_word.find(words[i]);
      if (it == m_phrases_by_first_word.end()) continue;
      for (const Phrase& phrase : it->second) {
        if (i + phrase.words.size() > words.size()) continue;
        bool match = true;
        for (std::size_t k = 1; k < phrase.words.size() && match; ++k)
          match = words[i + k] == phrase.words[k];
        if (!match) continue;
        switch (phrase.kind) {
          case Kind::category:
            category_seen[phrase.index] = true;
            break;
          case Kind::tool:
            tool_seen[phrase.index] = true;
            break;
          case Kind::target:
            target = std::min<std::size_t>(target, phrase.index);
            break;
        }
      }
    }
  }

  const std::string target_name = target < m_targets.size() ? m_targets[target] : "any";
  const std::size_t first = out.size();
  category_done.assign(m_categories.size(), false);
  for (std::size_t t = 0; t < m_tools.size(); ++t) {
    if (!tool_seen[t]) continue;
    const Tool& tool = m_tools[t];
    bool any_mentioned = false;
    for (const auto c : tool.categories) {
      if (!category_seen[c]) continue;
      any_mentioned = true;
      category_done[c] = true;
      out.push_back(m_categories[c] + ":" + tool.name + ":" + target_name);
    }
    if (!any_mentioned) {
      category_done[tool.categories.front()] = true;
      out.push_back(m_categories[tool.categories.front()] + ":" + tool.name + ":" + target_name);
    }
  }
  for (std::size_t c = 0; c < m_categories.size(); ++c)
    if (category_seen[c] && !category_done[c])
      out.push_back(m_categories[c] + ":any:" + target_name);
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
  out.erase(std::unique(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()), out.end());
}

}  // namespace patternd::detect
