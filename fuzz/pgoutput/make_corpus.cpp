// Writes the seed corpus for fuzz_decoder from the captured streams in
// tests/pgoutput/captures: for every capture one input with the whole stream
// (as bare messages and as XLogData frames), and for every message one input
// with the Relation it needs followed by the message. Long runs of one message
// type (a bulk insert, a streamed transaction) add nothing after their first
// few messages: the seeds keep kRunKept of each run, and every 100th message,
// so that the inputs stay small enough to mutate quickly.
//
//   make_corpus <captures dir> <corpus dir>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "capture_file.hpp"

namespace {

namespace fs = std::filesystem;
using vil::pgoutput::testing::read_capture;
using Bytes = std::vector<std::byte>;

constexpr std::size_t kRunKept = 8;

void put_record(Bytes& out, const Bytes& record) {
  out.push_back(std::byte{static_cast<std::uint8_t>(record.size() >> 8)});
  out.push_back(std::byte{static_cast<std::uint8_t>(record.size())});
  out.insert(out.end(), record.begin(), record.end());
}

Bytes xlogdata(const Bytes& payload, std::uint64_t lsn) {
  Bytes frame{std::byte{'w'}};
  for (const std::uint64_t field : {lsn, lsn + payload.size(), std::uint64_t{757479845000000}}) {
    for (int i = 7; i >= 0; --i)
      frame.push_back(std::byte{static_cast<std::uint8_t>(field >> (8 * i))});
  }
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

void write(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::uint32_t be32(const Bytes& b, std::size_t at) {
  return (std::uint32_t{static_cast<std::uint8_t>(b[at])} << 24) |
         (std::uint32_t{static_cast<std::uint8_t>(b[at + 1])} << 16) |
         (std::uint32_t{static_cast<std::uint8_t>(b[at + 2])} << 8) |
         std::uint32_t{static_cast<std::uint8_t>(b[at + 3])};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_corpus <captures dir> <corpus dir>\n");
    return 2;
  }
  const fs::path captures = argv[1];
  const fs::path corpus = argv[2];
  fs::create_directories(corpus);
  std::size_t written = 0;
  for (const auto& entry : fs::directory_iterator(captures)) {
    if (entry.path().extension() != ".hex") continue;
    const auto capture = read_capture(entry.path().string());
    const auto version = static_cast<std::uint8_t>(std::stoul(capture.options.at("proto_version")));
    const std::byte options{static_cast<std::uint8_t>(version - 1)};
    const std::string stem = entry.path().stem().string();

    Bytes whole{options};
    Bytes framed{std::byte{static_cast<std::uint8_t>(static_cast<std::uint8_t>(options) | 16U)}};
    std::map<std::uint32_t, Bytes> relations;  // last Relation per id (outside streams)
    bool in_stream = false;
    std::size_t index = 0;
    char run_type = 0;
    std::size_t run = 0;
    for (const auto& message : capture.messages) {
      const Bytes& bytes = message.bytes;
      const char type = static_cast<char>(bytes[0]);
      run = type == run_type ? run + 1 : 1;
      run_type = type;
      const bool kept = run <= kRunKept || index % 100 == 0;
      if (type == 'S') in_stream = true;
      if (type == 'E') in_stream = false;
      if (!kept) {
        ++index;
        continue;
      }
      put_record(whole, bytes);
      put_record(framed, xlogdata(bytes, message.lsn.value));
      Bytes single{options};
      if (type == 'R' && !in_stream) relations[be32(bytes, 1)] = bytes;
      if ((type == 'I' || type == 'U' || type == 'D') && !in_stream) {
        const auto it = relations.find(be32(bytes, 1));
        if (it != relations.end()) put_record(single, it->second);
      }
      put_record(single, bytes);
      write(corpus / (stem + "-" + std::to_string(index)), single);
      ++written;
      ++index;
    }
    write(corpus / (stem + "-all"), whole);
    write(corpus / (stem + "-frames"), framed);
    written += 2;
  }
  // Protocol 4 with parallel streaming: a Stream Abort with abort LSN and time.
  Bytes abort{std::byte{3 | 4}};
  put_record(
      abort,
      Bytes{std::byte{'A'},  std::byte{0},    std::byte{0},    std::byte{3},    std::byte{0x84},
            std::byte{0},    std::byte{0},    std::byte{3},    std::byte{0x85}, std::byte{0},
            std::byte{0},    std::byte{0},    std::byte{0},    std::byte{1},    std::byte{0xA2},
            std::byte{0xB3}, std::byte{0xC4}, std::byte{0},    std::byte{2},    std::byte{0xB0},
            std::byte{0xEC}, std::byte{0x85}, std::byte{0x15}, std::byte{0xF3}, std::byte{0x40}});
  write(corpus / "v4-stream-abort", abort);
  std::printf("make_corpus: %zu inputs in %s\n", written + 1, corpus.string().c_str());
  return 0;
}
