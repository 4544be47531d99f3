#pragma once
// What went wrong while decoding a frame or a pgoutput message: a code for
// programs, the message type and byte offset for people reading a dump, and a
// sentence that names the cause.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vil::pgoutput {

enum class DecodeErrc : std::uint8_t {
  Truncated = 1,        // a field runs past the end of the frame or message
  TrailingBytes,        // bytes left over after the last field
  UnknownFrameType,     // CopyData that is neither XLogData 'w' nor keepalive 'k'
  UnknownMessageType,   // a first byte pgoutput never sends
  UnexpectedMessage,    // known, but not in this protocol version or stream state
  InvalidValue,         // a field holds a value the protocol does not define
  UnterminatedString,   // a string without its NUL before the end
  InvalidUtf8,          // a name, prefix or GID that is not UTF-8
  UnknownRelation,      // a change for a relation id no Relation message described
  ColumnCountMismatch,  // a tuple whose width differs from its relation's
};

[[nodiscard]] std::string_view to_string(DecodeErrc code) noexcept;

struct DecodeError {
  DecodeErrc code{};
  std::uint8_t message_type = 0;  // first byte of the frame or message (0 when empty)
  std::size_t offset = 0;         // where in the frame or message the fault was found
  std::string message;            // printable, one line
};

// The protocol's name for a message type byte ("Insert", "Stream Abort"), or
// an empty view for a byte pgoutput does not send.
[[nodiscard]] std::string_view message_type_name(std::uint8_t type) noexcept;

// Appends text so that it stays printable on one line: control bytes, '\\'
// and bytes that are not UTF-8 become \xNN escapes.
void append_printable(std::string& out, std::string_view text);

}  // namespace vil::pgoutput
