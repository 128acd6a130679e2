#pragma once
// Errors as values: decoding, parsing and validation return a Result; only
// the application edge (main, subcommands) turns an error into a message and
// an exit code.

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace patternd::core {

struct Error {
  std::string message;
};

template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : m_state(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return m_state.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(m_state); }
  const T& value() const& { return std::get<0>(m_state); }
  T&& value() && { return std::get<0>(std::move(m_state)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

  const E& error() const { return std::get<1>(m_state); }

 private:
  std::variant<T, E> m_state;
};

// Result for operations that produce nothing but may fail.
template <typename E = Error>
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(E error) : m_error(std::move(error)), m_failed(true) {}
  bool ok() const { return !m_failed; }
  explicit operator bool() const { return ok(); }
  const E& error() const { return m_error; }

 private:
  E m_error{};
  bool m_failed = false;
};

// The edge helper: a failed Result becomes an exception that main() reports.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename T>
T value_or_throw(Result<T> result) {
  if (!result.ok()) throw UsageError(result.error().message);
  return std::move(result).value();
}

}  // namespace patternd::core
