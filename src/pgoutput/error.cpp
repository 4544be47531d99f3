#include <fmt/format.h>

#include "vil/pgoutput/error.hpp"
#include "vil/pgoutput/utf8.hpp"

namespace vil::pgoutput {

std::string_view to_string(DecodeErrc code) noexcept {
  switch (code) {
    case DecodeErrc::truncated:
      return "truncated";
    case DecodeErrc::trailing_bytes:
      return "trailing bytes";
    case DecodeErrc::unknown_frame_type:
      return "unknown frame type";
    case DecodeErrc::unknown_message_type:
      return "unknown message type";
    case DecodeErrc::unexpected_message:
      return "unexpected message";
    case DecodeErrc::invalid_value:
      return "invalid value";
    case DecodeErrc::unterminated_string:
      return "unterminated string";
    case DecodeErrc::invalid_utf8:
      return "invalid UTF-8";
    case DecodeErrc::unknown_relation:
      return "unknown relation";
    case DecodeErrc::column_count_mismatch:
      return "column count mismatch";
  }
  return "unknown error";
}

std::string_view message_type_name(std::uint8_t type) noexcept {
  switch (type) {
    case 'B':
      return "Begin";
    case 'C':
      return "Commit";
    case 'O':
      return "Origin";
    case 'R':
      return "Relation";
    case 'Y':
      return "Type";
    case 'I':
      return "Insert";
    case 'U':
      return "Update";
    case 'D':
      return "Delete";
    case 'T':
      return "Truncate";
    case 'M':
      return "Message";
    case 'S':
      return "Stream Start";
    case 'E':
      return "Stream Stop";
    case 'c':
      return "Stream Commit";
    case 'A':
      return "Stream Abort";
    case 'b':
      return "Begin Prepare";
    case 'P':
      return "Prepare";
    case 'K':
      return "Commit Prepared";
    case 'r':
      return "Rollback Prepared";
    case 'p':
      return "Stream Prepare";
    default:
      return {};
  }
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
    const std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    const std::string_view sequence = text.substr(i, length);
    const bool c1_control =
        c == 0xC2 && sequence.size() == 2 && static_cast<unsigned char>(sequence[1]) < 0xA0;
    if (length > 1 && sequence.size() == length && !c1_control && is_valid_utf8(sequence)) {
      out += sequence;
      i += length;
    } else {
      escape(c);
      ++i;
    }
  }
}

}  // namespace vil::pgoutput
