#pragma once
// The pgoutput message types, once: each one's type byte, its protocol name
// and where it may appear. One row per alternative of pgoutput::Message, in
// the variant's order, so that a row's index is the alternative's index:
// message_type_name(), message_name() and decode_message() (its checks and
// its dispatch to the readers) all look here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vil::pgoutput::detail {

struct MessageType {
  char type;                  // the message's first byte
  std::string_view name;      // the protocol's name ("Stream Abort")
  std::uint32_t min_version;  // the first protocol version that sends it
  bool in_stream;             // allowed between Stream Start and Stream Stop
  bool out_of_stream;         // allowed elsewhere
};

inline constexpr std::array<MessageType, 19> kMessageTypes{{
    {'B', "Begin", 1, false, true},
    {'C', "Commit", 1, false, true},
    {'O', "Origin", 1, true, true},
    {'R', "Relation", 1, true, true},
    {'Y', "Type", 1, true, true},
    {'I', "Insert", 1, true, true},
    {'U', "Update", 1, true, true},
    {'D', "Delete", 1, true, true},
    {'T', "Truncate", 1, true, true},
    {'M', "Message", 1, true, true},
    {'S', "Stream Start", 2, false, true},
    {'E', "Stream Stop", 2, true, false},
    {'c', "Stream Commit", 2, false, true},
    {'A', "Stream Abort", 2, false, true},
    {'b', "Begin Prepare", 3, false, true},
    {'P', "Prepare", 3, false, true},
    {'K', "Commit Prepared", 3, false, true},
    {'r', "Rollback Prepared", 3, false, true},
    {'p', "Stream Prepare", 3, false, true},
}};

// For each byte, its row in kMessageTypes, or kNotAMessageType.
inline constexpr std::uint8_t kNotAMessageType = 0xFF;
inline constexpr std::array<std::uint8_t, 256> kMessageTypeIndex = [] {
  std::array<std::uint8_t, 256> index{};
  index.fill(kNotAMessageType);
  for (std::size_t i = 0; i < kMessageTypes.size(); ++i) {
    index[static_cast<std::uint8_t>(kMessageTypes[i].type)] = static_cast<std::uint8_t>(i);
  }
  return index;
}();

}  // namespace vil::pgoutput::detail
