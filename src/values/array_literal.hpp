// PostgreSQL's array literal (array_in's grammar): optional dimension
// decoration "[lb:ub][lb:ub]=", braces, elements unquoted (whitespace around them dropped)
// or double-quoted, backslash escapes in both, unquoted NULL (any case) for a NULL element,
// elements separated by the element type's delimiter (',' but for box's ';').
// One parser for typed conversion and for the JSON writer: it calls a handler as it goes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "failure.hpp"
#include "scan.hpp"

namespace vil::values::detail {

inline constexpr int kMaxArrayDims = 6;  // PostgreSQL's MAXDIM

struct ArrayElement {
  std::string_view raw;  // between the quotes, or the unquoted text trimmed
  uint32_t offset;       // of `raw` in the array's text
  bool quoted;
  bool escaped;  // `raw` has backslash escapes: see unescape()
  bool null;
};

struct ArrayShape {
  int ndim = 0;
  std::array<ArrayDimension, kMaxArrayDims> dims{};
};

// Appends `raw` without its escaping backslashes.
inline void unescape(std::string_view raw, std::string& out) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
    out.push_back(raw[i]);
  }
}

// Handler: void open(); void close(); void separator(); bool element(const ArrayElement&).
// element() returning false stops the parse; the result is then a Failure whose `what` is
// empty (the handler keeps its own error).
template <class Handler>
Parsed<ArrayShape> parse_array_literal(std::string_view s, char delimiter, Handler& h) {
  const std::size_t n = s.size();
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < n && is_space(s[i])) ++i;
  };

  // Dimension decoration.
  ArrayShape declared;
  bool decorated = false;
  skip_ws();
  while (i < n && s[i] == '[') {
    if (declared.ndim == kMaxArrayDims) {
      return bad_array(i, "has more than 6 dimensions");
    }
    ++i;
    auto read_bound = [&](int32_t* v) {
      skip_ws();
      const std::size_t start = i;
      bool negative = false;
      if (i < n && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
      int64_t acc = 0;
      const std::size_t digits = i;
      while (i < n && is_digit(s[i]) && acc <= INT32_MAX) acc = acc * 10 + (s[i++] - '0');
      if (i == digits || acc > INT32_MAX) {
        i = start;
        return false;
      }
      *v = static_cast<int32_t>(negative ? -acc : acc);
      skip_ws();
      return true;
    };
    int32_t lower = 1;
    int32_t upper;
    const std::size_t at = i;
    if (!read_bound(&upper)) return bad_array(i, "has a malformed dimension bound");
    if (i < n && s[i] == ':') {
      ++i;
      lower = upper;
      if (!read_bound(&upper)) return bad_array(i, "has a malformed dimension bound");
    }
    if (i >= n || s[i] != ']') return bad_array(i, "is missing \"]\" in its dimensions");
    ++i;
    if (upper < lower) return bad_array(at, "has an upper bound below its lower bound");
    const int64_t length = int64_t{upper} - lower + 1;
    if (length > INT32_MAX) return bad_array(at, "has a dimension that is too long");
    declared.dims[static_cast<std::size_t>(declared.ndim++)] = {static_cast<int32_t>(length),
                                                                lower};
    decorated = true;
  }
  if (decorated) {
    skip_ws();
    if (i >= n || s[i] != '=') return bad_array(i, "is missing \"=\" after its dimensions");
    ++i;
    skip_ws();
  }
  if (i >= n || s[i] != '{') return bad_array(i, "does not start with \"{\"");

  // Body. ndim is fixed by the depth of the first element; every sub-array at one depth
  // must hold as many items as the first one did.
  ArrayShape shape;
  std::array<int64_t, kMaxArrayDims + 1> count{};
  std::array<int64_t, kMaxArrayDims + 1> length;
  length.fill(-1);
  int depth = 0;
  enum class Expect { FirstItem, Item, Separator } expect = Expect::FirstItem;
  for (;;) {
    skip_ws();
    if (i >= n) return bad_array(i, "ends before its closing \"}\"");
    const char c = s[i];
    if (expect == Expect::Separator) {
      if (c == delimiter) {
        ++i;
        h.separator();
        expect = Expect::Item;
        continue;
      }
      if (c != '}') return bad_array(i, "has an unexpected character after an element");
      // Closing a (sub-)array.
      if (length[static_cast<std::size_t>(depth)] < 0) {
        length[static_cast<std::size_t>(depth)] = count[static_cast<std::size_t>(depth)];
      } else if (length[static_cast<std::size_t>(depth)] !=
                 count[static_cast<std::size_t>(depth)]) {
        return bad_array(i, "has sub-arrays of different lengths");
      }
      ++i;
      h.close();
      if (--depth == 0) break;
      ++count[static_cast<std::size_t>(depth)];
      continue;
    }
    if (c == '{') {
      if (depth == kMaxArrayDims) return bad_array(i, "has more than 6 dimensions");
      if (shape.ndim != 0 && depth >= shape.ndim) return bad_array(i, "has an unexpected \"{\"");
      ++i;
      ++depth;
      count[static_cast<std::size_t>(depth)] = 0;
      h.open();
      expect = Expect::FirstItem;
      continue;
    }
    if (c == '}') {
      // "{}" is the empty array; "{{}}" and "{1,}" are errors, as in PostgreSQL.
      if (expect == Expect::FirstItem && depth == 1 && shape.ndim == 0) {
        ++i;
        h.close();
        depth = 0;
        break;
      }
      return bad_array(i, "has an unexpected \"}\"");
    }
    if (c == delimiter) {
      return bad_array(i, delimiter == ','   ? "has an unexpected \",\""
                          : delimiter == ';' ? "has an unexpected \";\""
                                             : "has an unexpected delimiter");
    }
    // An element.
    if (shape.ndim == 0) {
      shape.ndim = depth;
    } else if (depth != shape.ndim) {
      return bad_array(i, "has an element where a sub-array was expected");
    }
    ArrayElement e{};
    if (c == '"') {
      const std::size_t quote = i++;
      const std::size_t start = i;
      while (i < n && s[i] != '"') {
        if (s[i] == '\\') {
          e.escaped = true;
          ++i;
        }
        ++i;
      }
      if (i >= n) return bad_array(quote, "has an unterminated quoted element");
      e.raw = s.substr(start, i - start);
      e.offset = static_cast<uint32_t>(start);
      e.quoted = true;
      ++i;
    } else {
      const std::size_t start = i;
      std::size_t last = i;  // one past the last character that is not unescaped whitespace
      while (i < n && s[i] != delimiter && s[i] != '}') {
        if (s[i] == '{' || s[i] == '"') {
          return bad_array(i, "has an unexpected character in an unquoted element");
        }
        if (s[i] == '\\') {
          if (i + 1 >= n) return bad_array(i, "ends in a backslash");
          e.escaped = true;
          i += 2;
          last = i;
          continue;
        }
        if (!is_space(s[i])) last = i + 1;
        ++i;
      }
      e.raw = s.substr(start, last - start);
      e.offset = static_cast<uint32_t>(start);
      e.null = !e.escaped && iequals(e.raw, "null");
    }
    if (!h.element(e)) return std::unexpected(Failure{ValueErrorCode::Syntax, e.offset, {}});
    ++count[static_cast<std::size_t>(depth)];
    expect = Expect::Separator;
  }
  skip_ws();
  if (i != n) return bad_array(i, "has text after its closing \"}\"");

  for (int d = 0; d < shape.ndim; ++d) {
    shape.dims[static_cast<std::size_t>(d)] = {
        static_cast<int32_t>(length[static_cast<std::size_t>(d) + 1]), 1};
  }
  if (decorated) {
    bool same = declared.ndim == shape.ndim;
    for (int d = 0; same && d < shape.ndim; ++d) {
      same = declared.dims[static_cast<std::size_t>(d)].length ==
             shape.dims[static_cast<std::size_t>(d)].length;
    }
    if (!same) return bad_array(0, "has dimensions that do not match its contents");
    shape = declared;
  }
  return shape;
}

}  // namespace vil::values::detail
