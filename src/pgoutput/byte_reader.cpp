#include "byte_reader.hpp"

#include <fmt/format.h>

#include <cstring>

#include "vil/pgoutput/utf8.hpp"

namespace vil::pgoutput::detail {

void ByteReader::fail(DecodeErrc code, std::size_t offset, std::string message) {
  if (!error_) error_ = DecodeError{code, type_byte(), offset, std::move(message)};
  pos_ = size_;
}

void ByteReader::truncated(std::string_view field, std::size_t needed) {
  if (error_) return;
  fail(DecodeErrc::Truncated, pos_,
       fmt::format("{}: {} truncated at offset {}: need {} bytes for {}, {} left", what_, unit_,
                   pos_, needed, field, remaining()));
}

std::span<const std::byte> ByteReader::bytes(std::size_t count, std::string_view field) {
  if (remaining() < count) {
    truncated(field, count);
    return {};
  }
  const std::span<const std::byte> out{here(), count};
  pos_ += count;
  return out;
}

std::span<const std::byte> ByteReader::rest() noexcept {
  const std::span<const std::byte> out{here(), remaining()};
  pos_ = size_;
  return out;
}

std::string_view ByteReader::cstring(std::string_view field, bool validate_utf8) {
  if (failed()) return {};
  const std::size_t start = pos_;
  const void* nul = std::memchr(here(), 0, remaining());
  if (nul == nullptr) {
    fail(DecodeErrc::UnterminatedString, start,
         fmt::format("{}: {} at offset {} has no NUL terminator before the end of the {} ({} "
                     "bytes left)",
                     what_, field, start, unit_, remaining()));
    return {};
  }
  const auto length = static_cast<std::size_t>(static_cast<const std::byte*>(nul) - here());
  const std::string_view text{reinterpret_cast<const char*>(here()), length};
  if (validate_utf8 && !is_valid_utf8(text)) {
    std::string message =
        fmt::format("{}: {} at offset {} is not valid UTF-8: \"", what_, field, start);
    append_printable(message, text.substr(0, 64));
    message += text.size() > 64 ? "\"..." : "\"";
    fail(DecodeErrc::InvalidUtf8, start, std::move(message));
    return {};
  }
  pos_ += length + 1;
  return text;
}

TupleView ByteReader::tuple(std::string_view field) {
  const std::uint16_t count = u16(field);
  if (failed()) return {};
  const std::byte* const columns = here();
  const std::byte* p = columns;
  const std::byte* const end = data_ + size_;
  // The hot loop of decoding: one pass that checks what the view will parse.
  for (std::uint16_t i = 0; i < count; ++i) {
    if (p == end) {
      pos_ = static_cast<std::size_t>(p - data_);
      truncated(fmt::format("the kind of column {} of {} in the {}", i + 1, count, field), 1);
      return {};
    }
    const auto kind = static_cast<char>(*p);
    if (kind == 't' || kind == 'b') {
      if (end - p < 5) {
        pos_ = static_cast<std::size_t>(p + 1 - data_);
        truncated(fmt::format("the length of column {} of {} in the {}", i + 1, count, field), 4);
        return {};
      }
      const auto length = load_be<std::uint32_t>(p + 1);
      p += 5;
      if (static_cast<std::size_t>(end - p) < length) {
        pos_ = static_cast<std::size_t>(p - data_);
        truncated(fmt::format("the value of column {} of {} in the {}", i + 1, count, field),
                  length);
        return {};
      }
      p += length;
    } else if (kind == 'n' || kind == 'u') {
      ++p;
    } else {
      const auto offset = static_cast<std::size_t>(p - data_);
      std::string message = fmt::format("{}: column {} of {} in the {} at offset {} has kind ",
                                        what_, i + 1, count, field, offset);
      if (kind >= 0x20 && kind < 0x7f) message += fmt::format("'{}' ", kind);
      message +=
          fmt::format("0x{:02X}; expected 'n', 'u', 't' or 'b'", static_cast<std::uint8_t>(kind));
      fail(DecodeErrc::InvalidValue, offset, std::move(message));
      return {};
    }
  }
  pos_ = static_cast<std::size_t>(p - data_);
  return TupleView::from_validated(columns, static_cast<std::size_t>(p - columns), count);
}

RelationColumns ByteReader::relation_columns(std::uint16_t count, bool validate_utf8) {
  const std::byte* const columns = here();
  for (std::uint16_t i = 0; i < count && !failed(); ++i) {
    (void)u8("column flags");
    (void)cstring("column name", validate_utf8);
    (void)u32("column type OID");
    (void)i32("column type modifier");
  }
  if (failed()) return {};
  return RelationColumns::from_validated(columns, count);
}

RelationIds ByteReader::relation_ids(std::uint32_t count) {
  const std::span<const std::byte> ids = bytes(std::size_t{count} * 4, "relation ids");
  if (failed()) return {};
  return RelationIds::from_validated(ids.data(), count);
}

void ByteReader::trailing_bytes() {
  fail(DecodeErrc::TrailingBytes, pos_,
       fmt::format("{}: {} unexpected bytes after the last field, at offset {} of a {}-byte {}",
                   what_, remaining(), pos_, size_, unit_));
}

void ByteReader::check_flags(std::uint8_t flags, std::uint8_t known, std::size_t offset) {
  if (failed() || (flags & ~known) == 0) return;
  fail(DecodeErrc::InvalidValue, offset,
       fmt::format("{}: flags 0x{:02X} at offset {} have bits the protocol does not define "
                   "(known: 0x{:02X})",
                   what_, flags, offset, known));
}

}  // namespace vil::pgoutput::detail
