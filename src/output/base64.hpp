#pragma once
// RFC 4648 base64 with padding: how Kafka Connect's JSON converter writes
// bytes, and so how Debezium shows a logical message's content.

#include <cstddef>
#include <span>
#include <string>

namespace vil::output::detail {

void append_base64(std::string& out, std::span<const std::byte> bytes);

}  // namespace vil::output::detail
