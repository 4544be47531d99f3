#include "numbers.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "scan.hpp"

namespace vil::values::detail {

Parsed<bool> parse_bool(std::string_view text) noexcept {
  // boolin(): whitespace around, then any prefix of true/false/yes/no, on/off (at least two
  // letters), or 1/0, in any case.
  const Trimmed t = trim(text);
  const std::string_view s = text.substr(t.begin, t.end - t.begin);
  auto prefix_of = [&](std::string_view word, std::size_t min_len) {
    if (s.size() < min_len || s.size() > word.size()) return false;
    return iequals(s, word.substr(0, s.size()));
  };
  if (!s.empty()) {
    switch (to_lower(s[0])) {
      case 't':
        if (prefix_of("true", 1)) return true;
        break;
      case 'f':
        if (prefix_of("false", 1)) return false;
        break;
      case 'y':
        if (prefix_of("yes", 1)) return true;
        break;
      case 'n':
        if (prefix_of("no", 1)) return false;
        break;
      case 'o':
        if (prefix_of("on", 2)) return true;
        if (prefix_of("off", 2)) return false;
        break;
      case '1':
        if (s.size() == 1) return true;
        break;
      case '0':
        if (s.size() == 1) return false;
        break;
      default:
        break;
    }
  }
  return syntax(t.begin, "is not a boolean");
}

namespace {

struct IntRange {
  int64_t min;
  int64_t max;
  std::string_view what;
};

constexpr IntRange range_of(TypeKind kind) noexcept {
  switch (kind) {
    case TypeKind::Int2:
      return {-32768, 32767, "is out of range [-32768, 32767]"};
    case TypeKind::Int4:
      return {INT32_MIN, INT32_MAX, "is out of range [-2147483648, 2147483647]"};
    case TypeKind::Oid:
      return {INT32_MIN, UINT32_MAX, "is out of range [0, 4294967295]"};
    default:
      return {INT64_MIN, INT64_MAX, "is out of range [-9223372036854775808, 9223372036854775807]"};
  }
}

}  // namespace

Parsed<ParsedInt> parse_int(TypeKind kind, std::string_view s) noexcept {
  const IntRange range = range_of(kind);
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n && is_space(s[i])) ++i;
  bool canonical = i == 0;
  bool negative = false;
  if (i < n && (s[i] == '-' || s[i] == '+')) {
    negative = s[i] == '-';
    canonical = canonical && negative;
    ++i;
  }
  const std::size_t digits = i;
  uint64_t magnitude = 0;
  bool overflow = false;
  for (; i < n && is_digit(s[i]); ++i) {
    const auto d = static_cast<uint64_t>(s[i] - '0');
    if (magnitude > (std::numeric_limits<uint64_t>::max() - d) / 10) overflow = true;
    magnitude = magnitude * 10 + d;
  }
  if (i == digits) return syntax(i, "is not an integer");
  if (s[digits] == '0' && i - digits > 1) canonical = false;
  if (i < n && !is_space(s[i])) return syntax(i, "is not an integer");
  if (i < n) canonical = false;
  while (i < n && is_space(s[i])) ++i;
  if (i < n) return syntax(i, "is not an integer");

  int64_t value;
  if (negative) {
    const uint64_t limit = static_cast<uint64_t>(-(range.min + 1)) + 1;
    if (overflow || magnitude > limit) return out_of_range(digits, range.what);
    value = magnitude == 0 ? 0 : -static_cast<int64_t>(magnitude - 1) - 1;
    if (magnitude == 0) canonical = false;  // "-0"
  } else {
    if (overflow || magnitude > static_cast<uint64_t>(range.max)) {
      return out_of_range(digits, range.what);
    }
    value = static_cast<int64_t>(magnitude);
  }
  if (kind == TypeKind::Oid && value < 0) {
    value += int64_t{1} << 32;
    canonical = false;
  }
  return ParsedInt{value, canonical};
}

bool is_json_number(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (is_digit(s[i])) {
    while (i < n && is_digit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    const std::size_t f = i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == f) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    const std::size_t e = i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == e) return false;
  }
  return i == n;
}

namespace {

// NaN, Infinity, -Infinity as float8in()/numeric_in() accept them (any case, "inf" too).
FloatClass special_class(std::string_view s) noexcept {
  if (iequals(s, "nan")) return FloatClass::NaN;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (iequals(s, "infinity") || iequals(s, "inf")) {
    return negative ? FloatClass::MinusInfinity : FloatClass::Infinity;
  }
  return FloatClass::Finite;
}

}  // namespace

Parsed<ParsedFloat> parse_float(TypeKind kind, std::string_view text) noexcept {
  const Trimmed t = trim(text);
  std::string_view s = text.substr(t.begin, t.end - t.begin);
  switch (special_class(s)) {
    case FloatClass::NaN:
      return ParsedFloat{std::numeric_limits<double>::quiet_NaN(), FloatClass::NaN, false};
    case FloatClass::Infinity:
      return ParsedFloat{std::numeric_limits<double>::infinity(), FloatClass::Infinity, false};
    case FloatClass::MinusInfinity:
      return ParsedFloat{-std::numeric_limits<double>::infinity(), FloatClass::MinusInfinity,
                         false};
    case FloatClass::Finite:
      break;
  }
  std::size_t start = t.begin;
  bool json_ready = t.begin == 0 && t.end == text.size();
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    ++start;
    json_ready = false;
  }
  // from_chars would also take "nan(...)" and "infinityx"-like spellings; a number starts
  // with a digit or a point after its sign.
  const std::size_t sign = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (s.size() <= sign || !(is_digit(s[sign]) || s[sign] == '.')) {
    return syntax(start + sign, "is not a floating-point number");
  }
  const char* first = s.data();
  const char* last = s.data() + s.size();
  double value;
  std::from_chars_result r;
  if (kind == TypeKind::Float4) {
    float f;
    r = std::from_chars(first, last, f);
    value = f;
  } else {
    r = std::from_chars(first, last, value);
  }
  if (r.ec == std::errc::result_out_of_range) return out_of_range(start, "is out of range");
  if (r.ec != std::errc() || r.ptr != last) {
    return syntax(start + static_cast<std::size_t>(r.ptr - first),
                  "is not a floating-point number");
  }
  json_ready = json_ready && is_json_number(s);
  return ParsedFloat{value, FloatClass::Finite, json_ready};
}

Parsed<std::string_view> parse_numeric(std::string_view text) noexcept {
  const Trimmed t = trim(text);
  const std::string_view s = text.substr(t.begin, t.end - t.begin);
  if (special_class(s) != FloatClass::Finite) return s;
  const std::size_t n = s.size();
  std::size_t i = 0;
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t digits = 0;
  while (i < n && is_digit(s[i])) ++i, ++digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && is_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return syntax(t.begin + i, "is not a number");
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    const std::size_t e = i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == e) return syntax(t.begin + i, "is not a number");
  }
  if (i != n) return syntax(t.begin + i, "is not a number");
  return s;
}

}  // namespace vil::values::detail
