#pragma once
// Reads the captured pgoutput streams in tests/pgoutput/captures (format in
// recapture.sh): lines "<lsn> <xid> <hex>", '#' comments, and an options line.

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "vil/pgoutput/lsn.hpp"

namespace vil::pgoutput::testing {

struct CapturedMessage {
  Lsn lsn;
  std::uint32_t xid = 0;
  std::vector<std::byte> bytes;
};

struct Capture {
  std::map<std::string, std::string> options;  // from "# options: k=v k=v"
  std::vector<CapturedMessage> messages;
};

inline std::vector<std::byte> from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) throw std::runtime_error("odd hex length");
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error(std::string("not a hex digit: ") + c);
  };
  std::vector<std::byte> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = std::byte{static_cast<std::uint8_t>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]))};
  }
  return out;
}

inline Capture read_capture(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  Capture capture;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      const std::string key = "# options:";
      if (line.rfind(key, 0) == 0) {
        std::istringstream words(line.substr(key.size()));
        std::string word;
        while (words >> word) {
          const auto eq = word.find('=');
          if (eq != std::string::npos) capture.options[word.substr(0, eq)] = word.substr(eq + 1);
        }
      }
      continue;
    }
    std::istringstream fields(line);
    std::string lsn;
    std::string hex;
    CapturedMessage message;
    if (!(fields >> lsn >> message.xid >> hex)) throw std::runtime_error("bad line: " + line);
    const auto parsed = parse_lsn(lsn);
    if (!parsed) throw std::runtime_error("bad LSN: " + lsn);
    message.lsn = *parsed;
    message.bytes = from_hex(hex);
    capture.messages.push_back(std::move(message));
  }
  return capture;
}

}  // namespace vil::pgoutput::testing
