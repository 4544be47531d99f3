// Typed column values made from PostgreSQL's text forms.
//
// Values are views: text, numeric, json, bytea, temporal and unknown values point into the
// text given to convert(), which must outlive them. Arrays own their element list (and the
// unescaped text of elements that had backslash escapes) and share it when copied.
#pragma once

#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vil::values {

struct Null {
  friend bool operator==(Null, Null) = default;
};

// Exact decimal: the validated text, e.g. "-12.50", "NaN", "Infinity".
struct Numeric {
  std::string_view text;
  bool is_nan() const noexcept;
  bool is_infinite() const noexcept;
  friend bool operator==(const Numeric&, const Numeric&) = default;
};

// text, varchar, bpchar (with its padding), name, "char", xml.
struct Text {
  std::string_view text;
  friend bool operator==(const Text&, const Text&) = default;
};

// The server's bytea text, validated: the hex form "\x0aff" (or the old escape form
// "a\\000b" when bytea_output = escape). Decoded on demand.
struct Bytea {
  std::string_view text;
  std::size_t size() const noexcept;                     // decoded byte count
  void decode(std::span<std::byte> out) const noexcept;  // out.size() must be >= size()
  std::vector<std::byte> bytes() const;
  friend bool operator==(const Bytea&, const Bytea&) = default;
};

struct Uuid {
  std::array<uint8_t, 16> bytes{};
  std::string to_string() const;  // lower-case 8-4-4-4-12
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// json or jsonb text, validated as JSON.
struct Json {
  std::string_view text;
  friend bool operator==(const Json&, const Json&) = default;
};

// Days since 1970-01-01 (proleptic Gregorian; "0044-03-15 BC" is year -43).
struct Date {
  static constexpr int32_t kInfinity = INT32_MAX;
  static constexpr int32_t kMinusInfinity = INT32_MIN;
  int32_t days = 0;
  std::string_view text;
  bool is_finite() const noexcept { return days != kInfinity && days != kMinusInfinity; }
  friend bool operator==(const Date&, const Date&) = default;
};

// Microseconds since midnight, 0 ..= 86'400'000'000 ("24:00:00" is allowed).
struct Time {
  int64_t micros = 0;
  std::string_view text;
  friend bool operator==(const Time&, const Time&) = default;
};

// Local time of day plus its UTC offset in seconds, east positive ("+05:30" is 19800).
struct TimeTz {
  int64_t micros = 0;
  int32_t offset_seconds = 0;
  std::string_view text;
  friend bool operator==(const TimeTz&, const TimeTz&) = default;
};

// Microseconds since 1970-01-01 00:00:00, without time zone. PostgreSQL's range ends in
// 294276 AD, but microseconds since 1970 in an int64 end on 294247-01-10: texts between
// give ValueErrorCode::OutOfRange (the JSON writer, which keeps the text, is unaffected).
struct Timestamp {
  static constexpr int64_t kInfinity = INT64_MAX;
  static constexpr int64_t kMinusInfinity = INT64_MIN;
  int64_t micros = 0;
  std::string_view text;
  bool is_finite() const noexcept { return micros != kInfinity && micros != kMinusInfinity; }
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

// Microseconds since the Unix epoch, UTC (the text's offset applied); range as Timestamp.
struct TimestampTz {
  static constexpr int64_t kInfinity = INT64_MAX;
  static constexpr int64_t kMinusInfinity = INT64_MIN;
  int64_t micros = 0;
  std::string_view text;
  bool is_finite() const noexcept { return micros != kInfinity && micros != kMinusInfinity; }
  friend bool operator==(const TimestampTz&, const TimestampTz&) = default;
};

// PostgreSQL's three interval fields; "1 year 2 mons 3 days 04:05:06.789" is
// {months 14, days 3, micros 14'706'789'000}.
struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
  std::string_view text;
  friend bool operator==(const Interval&, const Interval&) = default;
};

// A type this layer does not interpret (enums, ranges, geometric types, ...): its text.
struct Unknown {
  std::string_view text;
  friend bool operator==(const Unknown&, const Unknown&) = default;
};

struct ArrayDimension {
  int32_t length = 0;
  int32_t lower_bound = 1;
  friend bool operator==(const ArrayDimension&, const ArrayDimension&) = default;
};

struct Value;
namespace detail {
struct ArrayData;
}

// One- or multi-dimensional array; elements in row-major order, NULL elements as Null.
// Immutable; copies share the elements.
class Array {
 public:
  Array() = default;
  explicit Array(std::shared_ptr<const detail::ArrayData> data) : data_(std::move(data)) {}

  uint32_t element_oid() const noexcept;
  std::span<const ArrayDimension> dimensions() const noexcept;  // empty for "{}"
  std::span<const Value> elements() const noexcept;
  std::size_t size() const noexcept;
  const Value& operator[](std::size_t i) const noexcept;

  friend bool operator==(const Array& a, const Array& b);

 private:
  std::shared_ptr<const detail::ArrayData> data_;
};

using ValueVariant =
    std::variant<Null, bool, int64_t, double, Numeric, Text, Bytea, Uuid, Json, Date, Time, TimeTz,
                 Timestamp, TimestampTz, Interval, Array, Unknown>;

// Bool -> bool; int2/int4/int8/oid -> int64_t; float4/float8 -> double; the rest as above.
// std::get, std::holds_alternative and std::visit work on it as on its std::variant base.
struct Value : ValueVariant {
  using ValueVariant::ValueVariant;
  using ValueVariant::operator=;
};

namespace detail {
struct ArrayData {
  uint32_t element_oid = 0;
  uint8_t ndim = 0;
  std::array<ArrayDimension, 6> dims{};  // PostgreSQL's MAXDIM is 6
  std::vector<Value> elements;
  std::string unescaped;  // text of elements that had escapes; reserved once, never moved
};
}  // namespace detail

inline uint32_t Array::element_oid() const noexcept {
  return data_ ? data_->element_oid : 0;
}
inline std::span<const ArrayDimension> Array::dimensions() const noexcept {
  if (!data_) return {};
  return {data_->dims.data(), data_->ndim};
}
inline std::span<const Value> Array::elements() const noexcept {
  if (!data_) return {};
  return data_->elements;
}
inline std::size_t Array::size() const noexcept {
  return data_ ? data_->elements.size() : 0;
}
inline const Value& Array::operator[](std::size_t i) const noexcept {
  return data_->elements[i];
}

enum class ValueErrorCode : uint8_t {
  Syntax = 1,        // not a valid text form of the type
  OutOfRange = 2,    // well formed but outside the type's range
  Array = 3,         // malformed array literal (braces, quotes, dimensions)
  Encoding = 4,      // text (text, varchar, bpchar, name, unknown types) that is not UTF-8
  NotSent = 5,       // an unchanged TOASTed value: the server did not send it (cdc::RowView)
  NoSuchColumn = 6,  // a column index or name the row does not have (cdc::RowView)
};

struct ValueError {
  ValueErrorCode code = ValueErrorCode::Syntax;
  uint32_t type_oid = 0;
  uint32_t offset = 0;  // byte offset into the text where the problem is
  std::string message;  // e.g. "int4: '12a' is not an integer (offset 2)"
};

}  // namespace vil::values
