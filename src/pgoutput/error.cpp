#include <fmt/format.h>

#include "message_types.hpp"
#include "vil/pgoutput/utf8_sequence.hpp"
#include "vil/pgoutput/error.hpp"

namespace vil::pgoutput {

std::string_view to_string(DecodeErrc code) noexcept {
  switch (code) {
    case DecodeErrc::Truncated:
      return "truncated";
    case DecodeErrc::TrailingBytes:
      return "trailing bytes";
    case DecodeErrc::UnknownFrameType:
      return "unknown frame type";
    case DecodeErrc::UnknownMessageType:
      return "unknown message type";
    case DecodeErrc::UnexpectedMessage:
      return "unexpected message";
    case DecodeErrc::InvalidValue:
      return "invalid value";
    case DecodeErrc::UnterminatedString:
      return "unterminated string";
    case DecodeErrc::InvalidUtf8:
      return "invalid UTF-8";
    case DecodeErrc::UnknownRelation:
      return "unknown relation";
    case DecodeErrc::ColumnCountMismatch:
      return "column count mismatch";
  }
  return "unknown error";
}

std::string_view message_type_name(std::uint8_t type) noexcept {
  const std::uint8_t row = detail::kMessageTypeIndex[type];
  return row == detail::kNotAMessageType ? std::string_view{} : detail::kMessageTypes[row].name;
}

void append_printable(std::string& out, std::string_view text) {
  const auto escape = [&out](unsigned char c) {
    out += fmt::format("\\x{:02X}", static_cast<unsigned>(c));
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F || c == '\\') {
        escape(c);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // Keep a whole valid UTF-8 sequence, unless it is a C1 control.
    const auto* const at = reinterpret_cast<const unsigned char*>(text.data()) + i;
    std::size_t bad = 0;
    const std::size_t length = utf8_sequence(at, at + (text.size() - i), &bad);
    const bool c1_control = c == 0xC2 && length == 2 && at[1] < 0xA0;
    if (length != 0 && !c1_control) {
      out += text.substr(i, length);
      i += length;
    } else {
      escape(c);
      ++i;
    }
  }
}

}  // namespace vil::pgoutput
