#include "vil/values/json_writer.hpp"

#include <charconv>
#include <cstring>
#include <optional>

#include "array_literal.hpp"
#include "bytea.hpp"
#include "numbers.hpp"
#include "scan.hpp"

namespace vil::values {
namespace {

using detail::Failure;
using detail::Parsed;

void append(std::string& out, std::string_view s) {
  out.append(s.data(), s.size());
}

template <class T>
void append_number(std::string& out, T value) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// json/jsonb as it is, line breaks (only possible as whitespace between tokens in valid
// JSON) turned into spaces so that one change stays on one line.
void embed_json(std::string& out, std::string_view text) {
  const std::size_t start = out.size();
  append(out, text);
  char* p = out.data() + start;
  char* const end = out.data() + out.size();
  while (p < end) {
    char* nl = static_cast<char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    char* cr = static_cast<char*>(std::memchr(p, '\r', static_cast<std::size_t>(end - p)));
    if (!nl && !cr) break;
    char* hit = !nl ? cr : (!cr ? nl : std::min(nl, cr));
    *hit = ' ';
    p = hit + 1;
  }
}

Parsed<void> write_bytea(std::string& out, std::string_view text) {
  const auto size = detail::scan_bytea(text);
  if (!size) return std::unexpected(size.error());
  if (detail::is_hex_bytea(text)) {
    out.append("\"\\\\x", 4);
    for (std::size_t i = 2; i < text.size(); ++i) {
      if (!detail::is_space(text[i])) out.push_back(detail::to_lower(text[i]));
    }
    out.push_back('"');
    return {};
  }
  // bytea_output = escape: shown in the hex form all the same.
  std::string bytes(*size, '\0');
  detail::decode_bytea(text, reinterpret_cast<std::byte*>(bytes.data()));
  write_json_hex_string(out, std::as_bytes(std::span<const char>(bytes)));
  return {};
}

Parsed<void> write_scalar(std::string& out, TypeKind kind, std::string_view text) {
  switch (kind) {
    case TypeKind::Bool: {
      const auto b = detail::parse_bool(text);
      if (!b) return std::unexpected(b.error());
      if (*b) {
        out.append("true", 4);
      } else {
        out.append("false", 5);
      }
      return {};
    }
    case TypeKind::Int2:
    case TypeKind::Int4:
    case TypeKind::Int8:
    case TypeKind::Oid: {
      const auto v = detail::parse_int(kind, text);
      if (!v) return std::unexpected(v.error());
      if (v->canonical) {
        append(out, text);
      } else {
        append_number(out, v->value);
      }
      return {};
    }
    case TypeKind::Float4:
    case TypeKind::Float8: {
      const auto v = detail::parse_float(kind, text);
      if (!v) return std::unexpected(v.error());
      switch (v->cls) {
        case detail::FloatClass::NaN:
          out.append("\"NaN\"", 5);
          break;
        case detail::FloatClass::Infinity:
          out.append("\"Infinity\"", 10);
          break;
        case detail::FloatClass::MinusInfinity:
          out.append("\"-Infinity\"", 11);
          break;
        case detail::FloatClass::Finite:
          if (v->json_ready) {
            append(out, text);
          } else if (kind == TypeKind::Float4) {
            append_number(out, static_cast<float>(v->value));
          } else {
            append_number(out, v->value);
          }
          break;
      }
      return {};
    }
    case TypeKind::Numeric: {
      const auto v = detail::parse_numeric(text);
      if (!v) return std::unexpected(v.error());
      out.push_back('"');
      append(out, *v);
      out.push_back('"');
      return {};
    }
    case TypeKind::Json:
    case TypeKind::Jsonb:
      if (!is_valid_json(text)) return detail::syntax(0, "is not valid JSON");
      embed_json(out, text);
      return {};
    case TypeKind::Bytea:
      return write_bytea(out, text);
    default:
      write_json_string(out, text);
      return {};
  }
}

// Streams an array literal out as a JSON array while it is parsed.
struct ArrayWriter {
  std::string& out;
  TypeKind element_kind;
  std::string scratch;  // unescaped element text
  std::size_t index = 0;
  std::optional<Failure> failure;
  std::string failed_text;

  void open() { out.push_back('['); }
  void close() { out.push_back(']'); }
  void separator() { out.push_back(','); }

  bool element(const detail::ArrayElement& e) {
    if (e.null) {
      out.append("null", 4);
      ++index;
      return true;
    }
    std::string_view t = e.raw;
    if (e.escaped) {
      scratch.clear();
      detail::unescape(e.raw, scratch);
      t = scratch;
    }
    const auto r = write_scalar(out, element_kind, t);
    if (!r) {
      failure = r.error();
      failure->offset = e.escaped ? e.offset : e.offset + failure->offset;
      failed_text.assign(t);
      return false;
    }
    ++index;
    return true;
  }
};

}  // namespace

std::expected<void, ValueError> write_json_value(std::string& out, const TypeInfo& type,
                                                 std::string_view text) {
  const std::size_t start = out.size();
  std::optional<ValueError> error;
  if (type.kind == TypeKind::Array) {
    ArrayWriter writer{out, type.element_kind, {}, 0, std::nullopt, {}};
    const auto shape = detail::parse_array_literal(text, type.delimiter, writer);
    if (shape) return {};
    if (writer.failure) {
      const TypeInfo element_type{type.element_oid, type.element_kind, TypeKind::Unknown, 0,
                                  kind_name(type.element_kind)};
      error = detail::make_element_error(type, writer.index, element_type, writer.failed_text,
                                         *writer.failure);
    } else {
      error = detail::make_error(type, text, shape.error());
    }
  } else {
    const auto r = write_scalar(out, type.kind, text);
    if (r) return {};
    error = detail::make_error(type, text, r.error());
  }
  // Not a valid text form of its type: kept as a string so the output stays valid JSON.
  out.resize(start);
  write_json_string(out, text);
  return std::unexpected(std::move(*error));
}

std::expected<void, ValueError> write_json_value(std::string& out, uint32_t type_oid,
                                                 std::string_view text) {
  return write_json_value(out, builtin_type(type_oid), text);
}

}  // namespace vil::values
