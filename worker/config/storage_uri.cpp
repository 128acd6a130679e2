#include "config/storage_uri.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>
#include <vector>

namespace patternd::config {
namespace {

constexpr std::string_view k_mask = "***";
constexpr std::string_view k_uri_prefixes[] = {"postgresql://", "postgres://"};

bool is_uri(std::string_view text) {
  return std::any_of(std::begin(k_uri_prefixes), std::end(k_uri_prefixes),
                     [&](std::string_view prefix) { return text.starts_with(prefix); });
}

struct Span {
  std::size_t at, length;
};

// The password of postgresql://user:password@host/...: between the first ':'
// and the LAST '@' before the query. libpq wants '@' in a password
// percent-encoded; taking the last one masks a raw one too, so a mistyped
// URI is not shown half-masked.
std::optional<Span> userinfo_password(std::string_view text) {
  if (!is_uri(text)) return std::nullopt;
  const std::size_t start = text.find("://") + 3;
  const std::size_t end = std::min(text.find_first_of("?#", start), text.size());
  const std::size_t at = text.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const std::size_t colon = text.substr(start, at).find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return Span{start + colon + 1, at - colon - 1};
}

// The value of every `...password = value` keyword: in a URI's query
// (?password=x&...) up to '&' or '#', in key=value form up to a space, or a
// quoted value ('...', backslash escapes). Any name ending in "password"
// counts: sslpassword is a secret too.
std::vector<Span> keyword_passwords(std::string_view text) {
  std::vector<Span> spans;
  const auto is_space = [](char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; };
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (std::size_t i = lower.find("password"); i != std::string::npos;
       i = lower.find("password", i + 1)) {
    std::size_t j = i + 8;
    while (j < text.size() && is_space(text[j])) ++j;
    if (j >= text.size() || text[j] != '=') continue;
    ++j;
    while (j < text.size() && is_space(text[j])) ++j;
    std::size_t k = j;
    if (k < text.size() && text[k] == '\'') {
      for (++k; k < text.size() && text[k] != '\''; ++k)
        if (text[k] == '\\') ++k;
      k = std::min(k + 1, text.size());
    } else {
      while (k < text.size() && !is_space(text[k]) && text[k] != '&' && text[k] != '#') ++k;
    }
    spans.push_back({j, k - j});
  }
  return spans;
}

std::vector<Span> password_spans(std::string_view text) {
  std::vector<Span> spans;
  const auto userinfo = userinfo_password(text);
  if (userinfo) spans.push_back(*userinfo);
  // "password=" inside the user information is part of that password.
  for (const Span span : keyword_passwords(text))
    if (!userinfo || span.at > userinfo->at + userinfo->length) spans.push_back(span);
  // From the back, so replacing one leaves the others' positions valid.
  std::sort(spans.begin(), spans.end(), [](Span a, Span b) { return a.at > b.at; });
  return spans;
}

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

void replace_all(std::string& text, const std::string& secret) {
  if (secret.empty()) return;
  for (std::size_t at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + k_mask.size()))
    text.replace(at, secret.size(), k_mask);
}

struct ConninfoFree {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

}  // namespace

std::string mask_password(std::string_view uri) {
  std::string out(uri);
  for (const Span span : password_spans(uri)) out.replace(span.at, span.length, k_mask);
  return out;
}

std::string redact_passwords(std::string message, std::string_view uri) {
  std::vector<std::string> secrets;
  for (const Span span : password_spans(uri)) {
    secrets.emplace_back(uri.substr(span.at, span.length));
    secrets.push_back(percent_decoded(secrets.back()));
  }
  // libpq's own reading of the password, however it was written.
  char* error = nullptr;
  const std::unique_ptr<PQconninfoOption, ConninfoFree> options(
      PQconninfoParse(std::string(uri).c_str(), &error));
  PQfreemem(error);
  for (auto* option = options.get(); option != nullptr && option->keyword != nullptr; ++option)
    if (std::string_view(option->keyword).ends_with("password") && option->val != nullptr)
      secrets.emplace_back(option->val);
  // Longest first: a password that contains another is replaced whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& secret : secrets) replace_all(message, secret);
  return message;
}

std::optional<std::string> check_storage(const Storage& storage) {
  if (storage.type != "postgresql") return std::nullopt;
  if (storage.uri.empty())
    return "storage.uri: storage.type postgresql needs a URI, such as "
           "postgresql://patternd:secret@db:5432/patternd (or PATTERND_STORAGE_URI)";
  const std::string shown = "\"" + mask_password(storage.uri) + "\"";
  if (!is_uri(storage.uri))
    return "storage.uri: expected a postgresql:// or postgres:// URI, got " + shown;
  char* error = nullptr;
  const std::unique_ptr<PQconninfoOption, ConninfoFree> options(
      PQconninfoParse(storage.uri.c_str(), &error));
  if (!options) {
    std::string why = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && std::isspace(static_cast<unsigned char>(why.back()))) why.pop_back();
    return "storage.uri: libpq cannot read " + shown + ": " + redact_passwords(why, storage.uri);
  }
  return std::nullopt;
}

}  // namespace patternd::config
