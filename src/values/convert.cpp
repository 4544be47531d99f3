#include "vil/values/convert.hpp"

#include <optional>

#include "array_literal.hpp"
#include "bytea.hpp"
#include "datetime.hpp"
#include "numbers.hpp"
#include "scalar.hpp"
#include "uuid.hpp"
#include "vil/pgoutput/utf8.hpp"
#include "vil/values/json_writer.hpp"

namespace vil::values {
namespace detail {
namespace {

// Text values keep their bytes, which must be UTF-8: that is what the session
// asks the server for, and what every consumer (JSON above all) relies on.
// Bytes that are not are bad input, reported at the first bad one.
std::optional<Failure> check_utf8(std::string_view text) noexcept {
  const std::size_t bad = pgoutput::find_invalid_utf8(text);
  if (bad == text.size()) [[likely]] {
    return std::nullopt;
  }
  return Failure{ValueErrorCode::Encoding, static_cast<uint32_t>(bad), "is not valid UTF-8"};
}

}  // namespace

Parsed<Value> convert_scalar(TypeKind kind, std::string_view text) noexcept {
  switch (kind) {
    case TypeKind::Bool: {
      const auto b = parse_bool(text);
      if (!b) return std::unexpected(b.error());
      return Value{*b};
    }
    case TypeKind::Int2:
    case TypeKind::Int4:
    case TypeKind::Int8:
    case TypeKind::Oid: {
      const auto v = parse_int(kind, text);
      if (!v) return std::unexpected(v.error());
      return Value{v->value};
    }
    case TypeKind::Float4:
    case TypeKind::Float8: {
      const auto v = parse_float(kind, text);
      if (!v) return std::unexpected(v.error());
      return Value{v->value};
    }
    case TypeKind::Numeric: {
      const auto v = parse_numeric(text);
      if (!v) return std::unexpected(v.error());
      return Value{Numeric{*v}};
    }
    case TypeKind::Text:
      if (auto bad = check_utf8(text)) [[unlikely]] {
        return std::unexpected(*bad);
      }
      return Value{Text{text}};
    case TypeKind::Bytea: {
      const auto v = scan_bytea(text);
      if (!v) return std::unexpected(v.error());
      return Value{Bytea{text}};
    }
    case TypeKind::Uuid: {
      const auto v = parse_uuid(text);
      if (!v) return std::unexpected(v.error());
      return Value{*v};
    }
    case TypeKind::Json:
    case TypeKind::Jsonb:
      if (!is_valid_json(text)) return syntax(0, "is not valid JSON");
      return Value{Json{text}};
    case TypeKind::Date: {
      const auto v = parse_date(text);
      if (!v) return std::unexpected(v.error());
      return Value{Date{*v, text}};
    }
    case TypeKind::Time: {
      const auto v = parse_time(text);
      if (!v) return std::unexpected(v.error());
      return Value{Time{*v, text}};
    }
    case TypeKind::TimeTz: {
      const auto v = parse_timetz(text);
      if (!v) return std::unexpected(v.error());
      return Value{TimeTz{v->micros, v->offset_seconds, text}};
    }
    case TypeKind::Timestamp: {
      const auto v = parse_timestamp(text, false);
      if (!v) return std::unexpected(v.error());
      return Value{Timestamp{*v, text}};
    }
    case TypeKind::TimestampTz: {
      const auto v = parse_timestamp(text, true);
      if (!v) return std::unexpected(v.error());
      return Value{TimestampTz{*v, text}};
    }
    case TypeKind::Interval: {
      const auto v = parse_interval(text);
      if (!v) return std::unexpected(v.error());
      return Value{Interval{v->months, v->days, v->micros, text}};
    }
    case TypeKind::Array:  // arrays of arrays do not exist; a registration said so wrongly
    case TypeKind::Unknown:
      break;
  }
  // Kept as text too (an enum label, a range, ...), so the same rule applies.
  if (auto bad = check_utf8(text)) [[unlikely]] {
    return std::unexpected(*bad);
  }
  return Value{Unknown{text}};
}

}  // namespace detail

namespace {

// Collects converted elements into the array's shared data.
struct ArrayBuilder {
  const TypeInfo& type;
  std::string_view text;
  detail::ArrayData& data;
  std::optional<ValueError> error;
  bool reserved = false;

  void open() noexcept {}
  void close() noexcept {}
  void separator() noexcept {}

  bool element(const detail::ArrayElement& e) {
    if (e.null) {
      data.elements.emplace_back(Null{});
      return true;
    }
    std::string_view t = e.raw;
    if (e.escaped) {
      // Reserved once for the whole text: unescaped elements are never longer than it, so
      // the views into this buffer stay valid.
      if (!reserved) {
        data.unescaped.reserve(text.size());
        reserved = true;
      }
      const std::size_t start = data.unescaped.size();
      detail::unescape(e.raw, data.unescaped);
      t = std::string_view(data.unescaped).substr(start);
    }
    auto v = detail::convert_scalar(type.element_kind, t);
    if (!v) {
      detail::Failure f = v.error();
      f.offset = e.escaped ? e.offset : e.offset + f.offset;
      const TypeInfo element_type{type.element_oid, type.element_kind, TypeKind::Unknown, 0,
                                  kind_name(type.element_kind)};
      error = detail::make_element_error(type, data.elements.size(), element_type, t, f);
      return false;
    }
    data.elements.push_back(std::move(*v));
    return true;
  }
};

std::expected<Value, ValueError> convert_array(const TypeInfo& type, std::string_view text) {
  auto data = std::make_shared<detail::ArrayData>();
  data->element_oid = type.element_oid;
  // Delimiters bound the element count (quoted commas only make it larger).
  std::size_t commas = 0;
  for (const char c : text) commas += c == type.delimiter ? 1 : 0;
  data->elements.reserve(commas + 1);
  ArrayBuilder builder{type, text, *data, std::nullopt, false};
  auto shape = detail::parse_array_literal(text, type.delimiter, builder);
  if (!shape) {
    if (builder.error) return std::unexpected(std::move(*builder.error));
    return std::unexpected(detail::make_error(type, text, shape.error()));
  }
  data->ndim = static_cast<uint8_t>(shape->ndim);
  data->dims = shape->dims;
  return Value{Array(std::move(data))};
}

}  // namespace

std::expected<Value, ValueError> convert(const TypeInfo& type, std::string_view text) {
  if (type.kind == TypeKind::Array) return convert_array(type, text);
  auto v = detail::convert_scalar(type.kind, text);
  if (!v) return std::unexpected(detail::make_error(type, text, v.error()));
  return std::move(*v);
}

std::expected<Value, ValueError> convert(uint32_t type_oid, std::string_view text) {
  return convert(builtin_type(type_oid), text);
}

}  // namespace vil::values
