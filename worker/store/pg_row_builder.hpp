#pragma once
// What the two forms a batch's rows are sent in share (Rows: arrays for
// unnest; CopyRows: binary COPY): the calls a record's row is described
// with, so that one function describes a record for either. The form gives
// text, integer, real, bytes and null; this adds the rest and keeps count.

#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "core/sha256.hpp"

namespace patternd::store::pg {

template <class Form>
class RowBuilder {
 public:
  void end_row() { ++m_rows; }
  // Whether a text of the current row held a NUL character, which
  // PostgreSQL's text cannot: the writer of raw rows then drops the row and
  // the record becomes a dead letter.
  bool holds_nul() const { return m_bad_row; }
  // A text stored with the row elsewhere (a code block's): its NUL makes
  // holds_nul() true too.
  void note_text(std::string_view text) {
    if (text.find('\0') != std::string_view::npos) m_bad_row = true;
  }

  Form& text_or_null(std::string_view value) {  // empty is NULL
    return value.empty() ? form().null() : form().text(value);
  }
  Form& digest(const core::Digest& d) { return form().bytes(d.data(), d.size()); }
  template <typename T>
  Form& optional(const std::optional<T>& value) {
    if (!value) return form().null();
    if constexpr (std::is_floating_point_v<T>)
      return form().real(*value);
    else
      return form().integer(static_cast<std::int64_t>(*value));
  }

  std::size_t size() const { return m_rows; }
  bool empty() const { return m_rows == 0; }

 protected:
  std::size_t m_rows = 0;
  bool m_bad_row = false;

 private:
  Form& form() { return static_cast<Form&>(*this); }
};

}  // namespace patternd::store::pg
