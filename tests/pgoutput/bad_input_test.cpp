// Bad input: every error has a code, an offset and a printable sentence, and
// nothing reads past the end (run these under -DVIL_SANITIZE=address,undefined:
// every input is copied into a heap buffer of exactly its size).

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "capture_file.hpp"
#include "vil/pgoutput/decoder.hpp"
#include "vil/pgoutput/frames.hpp"
#include "vil/pgoutput/utf8.hpp"
#include "wire.hpp"

namespace vil::pgoutput {
namespace {

using testing::Wire;

constexpr DecodeContext v1{1, false, false, true};
constexpr DecodeContext v2{2, false, false, true};
constexpr DecodeContext v2_stream{2, true, false, true};
constexpr DecodeContext v3{3, false, false, true};
constexpr DecodeContext v4_parallel{4, false, true, true};

bool printable(const std::string& text) {
  if (!is_valid_utf8(text)) return false;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return false;
  }
  return true;
}

DecodeError decode_error(std::span<const std::byte> bytes, const DecodeContext& context) {
  const std::vector<std::byte> copy(bytes.begin(), bytes.end());
  auto decoded = decode_message(copy, context);
  EXPECT_FALSE(decoded) << "decoded " << message_name(*decoded);
  if (decoded) return {};
  EXPECT_TRUE(printable(decoded.error().message)) << decoded.error().message;
  EXPECT_FALSE(decoded.error().message.empty());
  return decoded.error();
}

struct Sample {
  const char* name;
  Wire wire;
  DecodeContext context;
};

std::vector<Sample> valid_samples() {
  std::vector<Sample> s;
  s.push_back({"Begin", Wire('B').u64(1).i64(2).u32(3), v1});
  s.push_back({"Commit", Wire('C').u8(0).u64(1).u64(2).i64(3), v1});
  s.push_back({"Origin", Wire('O').u64(1).str("origin"), v1});
  s.push_back({"Relation",
               Wire('R')
                   .u32(1)
                   .str("public")
                   .str("t")
                   .ch('d')
                   .u16(2)
                   .u8(1)
                   .str("id")
                   .u32(23)
                   .i32(-1)
                   .u8(0)
                   .str("v")
                   .u32(25)
                   .i32(-1),
               v1});
  s.push_back(
      {"Relation streamed",
       Wire('R').u32(9).u32(1).str("").str("t").ch('f').u16(1).u8(1).str("id").u32(23).i32(-1),
       v2_stream});
  s.push_back({"Relation no columns", Wire('R').u32(1).str("s").str("t").ch('n').u16(0), v1});
  s.push_back({"Type", Wire('Y').u32(1).str("public").str("mood"), v1});
  s.push_back(
      {"Insert", Wire('I').u32(1).ch('N').columns(4).text("12").null().toast().binary("xy"), v1});
  s.push_back({"Insert streamed", Wire('I').u32(9).u32(1).ch('N').columns(1).text(""), v2_stream});
  s.push_back({"Insert no columns", Wire('I').u32(1).ch('N').columns(0), v1});
  s.push_back({"Update", Wire('U').u32(1).ch('N').columns(2).text("1").text("b"), v1});
  s.push_back(
      {"Update K",
       Wire('U').u32(1).ch('K').columns(2).text("1").null().ch('N').columns(2).text("2").null(),
       v1});
  s.push_back({"Update O streamed",
               Wire('U').u32(9).u32(1).ch('O').columns(1).text("1").ch('N').columns(1).toast(),
               v2_stream});
  s.push_back({"Delete", Wire('D').u32(1).ch('K').columns(2).text("1").null(), v1});
  s.push_back({"Delete O", Wire('D').u32(1).ch('O').columns(1).binary("\x01"), v1});
  s.push_back({"Truncate", Wire('T').u32(2).u8(1).u32(1).u32(2), v1});
  s.push_back({"Truncate streamed", Wire('T').u32(9).u32(1).u8(2).u32(1), v2_stream});
  s.push_back({"Message", Wire('M').u8(1).u64(1).str("p").u32(2).raw("ab"), v1});
  s.push_back({"Message streamed", Wire('M').u32(9).u8(0).u64(1).str("").u32(0), v2_stream});
  s.push_back({"Stream Start", Wire('S').u32(9).u8(1), v2});
  s.push_back({"Stream Stop", Wire('E'), v2_stream});
  s.push_back({"Stream Commit", Wire('c').u32(9).u8(0).u64(1).u64(2).i64(3), v2});
  s.push_back({"Stream Abort", Wire('A').u32(9).u32(10), v2});
  s.push_back({"Stream Abort v4", Wire('A').u32(9).u32(10).u64(5).i64(6), v4_parallel});
  s.push_back({"Begin Prepare", Wire('b').u64(1).u64(2).i64(3).u32(4).str("g"), v3});
  s.push_back({"Prepare", Wire('P').u8(0).u64(1).u64(2).i64(3).u32(4).str("g"), v3});
  s.push_back({"Commit Prepared", Wire('K').u8(0).u64(1).u64(2).i64(3).u32(4).str("g"), v3});
  s.push_back(
      {"Rollback Prepared", Wire('r').u8(0).u64(1).u64(2).i64(3).i64(4).u32(5).str("g"), v3});
  s.push_back({"Stream Prepare", Wire('p').u8(0).u64(1).u64(2).i64(3).u32(4).str("g"), v3});
  return s;
}

TEST(BadInput, SamplesAreValid) {
  for (const Sample& sample : valid_samples()) {
    const std::vector<std::byte> copy(sample.wire.bytes());
    const auto decoded = decode_message(copy, sample.context);
    EXPECT_TRUE(decoded) << sample.name << ": " << (decoded ? "" : decoded.error().message);
  }
}

// Every strict prefix of a valid message is an error, never a read past it.
void expect_every_cut_fails(const std::vector<std::byte>& bytes, const DecodeContext& context,
                            const std::string& name) {
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    const DecodeError error = decode_error(std::span(bytes).first(cut), context);
    EXPECT_TRUE(error.code == DecodeErrc::Truncated || error.code == DecodeErrc::UnterminatedString)
        << name << " cut at " << cut << ": " << error.message;
    EXPECT_LE(error.offset, cut) << name << " cut at " << cut;
  }
}

TEST(BadInput, TruncatedAtEveryCutPoint) {
  for (const Sample& sample : valid_samples()) {
    expect_every_cut_fails(sample.wire.bytes(), sample.context, sample.name);
  }
}

TEST(BadInput, CapturedMessagesTruncatedAtEveryCutPoint) {
  const std::filesystem::path dir = VIL_SOURCE_DIR "/tests/pgoutput/captures";
  for (const char* file : {"proto1_basic", "replica_identity", "messages", "truncate", "types",
                           "binary", "proto3_two_phase"}) {
    const auto capture = testing::read_capture((dir / (std::string(file) + ".hex")).string());
    DecoderOptions options;
    options.protocol_version =
        static_cast<std::uint32_t>(std::stoul(capture.options.at("proto_version")));
    Decoder decoder(options);
    std::size_t checked = 0;
    for (const auto& message : capture.messages) {
      DecodeContext context;
      context.protocol_version = options.protocol_version;
      context.in_stream = decoder.in_stream();
      // Large streamed runs repeat the same shape: cut a few of them.
      if (!context.in_stream || checked++ < 8) {
        expect_every_cut_fails(message.bytes, context, file);
      }
      ASSERT_TRUE(decoder.decode(message.bytes));
    }
  }
}

TEST(BadInput, EmptyMessage) {
  const DecodeError error = decode_error({}, v1);
  EXPECT_EQ(error.code, DecodeErrc::Truncated);
  EXPECT_EQ(error.message, "empty message: no type byte");
}

TEST(BadInput, UnknownMessageTypes) {
  const std::string known = "BCORYIUDTMSEcAbPKrp";
  for (int type = 0; type < 256; ++type) {
    if (known.find(static_cast<char>(type)) != std::string::npos) continue;
    const Wire w = Wire().u8(static_cast<std::uint8_t>(type)).u32(0);
    const DecodeError error = decode_error(w.span(), v4_parallel);
    EXPECT_EQ(error.code, DecodeErrc::UnknownMessageType) << type;
    EXPECT_EQ(error.message_type, type);
    EXPECT_EQ(error.offset, 0U);
  }
  EXPECT_EQ(decode_error(Wire('Z').span(), v1).message,
            "unknown message type 'Z' (0x5A) at offset 0");
  EXPECT_EQ(decode_error(Wire().u8(0).span(), v1).message,
            "unknown message type (0x00) at offset 0");
  EXPECT_EQ(decode_error(Wire().u8(0xC3).span(), v1).message,
            "unknown message type (0xC3) at offset 0");
}

TEST(BadInput, MessagesOfALaterProtocolVersion) {
  DecodeError error = decode_error(Wire('S').u32(1).u8(1).span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::UnexpectedMessage);
  EXPECT_EQ(error.message_type, 'S');
  EXPECT_EQ(error.offset, 0U);
  EXPECT_EQ(error.message,
            "Stream Start: message type 'S' at offset 0 needs protocol version 2, but version 1 "
            "is in use");
  error = decode_error(Wire('b').u64(1).u64(2).i64(3).u32(4).str("g").span(), v2);
  EXPECT_EQ(error.code, DecodeErrc::UnexpectedMessage);
  EXPECT_EQ(error.message,
            "Begin Prepare: message type 'b' at offset 0 needs protocol version 3, but version 2 "
            "is in use");
  for (const char type : {'E', 'c', 'A'}) {
    EXPECT_EQ(decode_error(Wire(type).span(), v1).code, DecodeErrc::UnexpectedMessage) << type;
  }
  for (const char type : {'P', 'K', 'r', 'p'}) {
    EXPECT_EQ(decode_error(Wire(type).span(), v2).code, DecodeErrc::UnexpectedMessage) << type;
  }
}

TEST(BadInput, MessagesInTheWrongStreamState) {
  DecodeError error = decode_error(Wire('E').span(), v2);
  EXPECT_EQ(error.code, DecodeErrc::UnexpectedMessage);
  EXPECT_EQ(error.message_type, 'E');
  EXPECT_EQ(error.offset, 0U);
  EXPECT_EQ(error.message,
            "Stream Stop: message type 'E' at offset 0 outside a streamed block (no Stream Start "
            "before it)");
  error = decode_error(Wire('S').u32(1).u8(0).span(), v2_stream);
  EXPECT_EQ(error.code, DecodeErrc::UnexpectedMessage);
  EXPECT_EQ(error.message,
            "Stream Start: message type 'S' at offset 0 inside a streamed block (after Stream "
            "Start, before Stream Stop)");
  for (const char type : {'B', 'C', 'c', 'A'}) {
    EXPECT_EQ(decode_error(Wire(type).span(), v2_stream).code, DecodeErrc::UnexpectedMessage)
        << type;
  }
}

TEST(BadInput, ColumnLengthRunsPastTheEnd) {
  const Wire w = Wire('I').u32(1).ch('N').columns(2).text("ok").ch('t').u32(100).raw("abc");
  const DecodeError error = decode_error(w.span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::Truncated);
  EXPECT_EQ(error.offset, 20U);
  EXPECT_EQ(error.message,
            "Insert: message truncated at offset 20: need 100 bytes for the value of column 2 of 2 "
            "in the new tuple, 3 left");
}

TEST(BadInput, HugeColumnLength) {
  const Wire w = Wire('I').u32(1).ch('N').columns(1).ch('t').u32(0xFFFFFFFF).raw("abc");
  EXPECT_EQ(decode_error(w.span(), v1).code, DecodeErrc::Truncated);
}

TEST(BadInput, MoreColumnsThanBytes) {
  const Wire w = Wire('I').u32(1).ch('N').columns(0xFFFF).null().null();
  const DecodeError error = decode_error(w.span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::Truncated);
  EXPECT_EQ(
      error.message,
      "Insert: message truncated at offset 10: need 1 bytes for the kind of column 3 of 65535 "
      "in the new tuple, 0 left");
}

TEST(BadInput, ContentLengthRunsPastTheEnd) {
  const Wire w = Wire('M').u8(0).u64(1).str("p").u32(0xFFFFFFF0).raw("xy");
  const DecodeError error = decode_error(w.span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::Truncated);
  EXPECT_EQ(error.message,
            "Message: message truncated at offset 16: need 4294967280 bytes for content, 2 left");
}

TEST(BadInput, TruncateCountRunsPastTheEnd) {
  const Wire w = Wire('T').u32(0x40000001).u8(0).u32(1);
  const DecodeError error = decode_error(w.span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::Truncated);
  EXPECT_EQ(
      error.message,
      "Truncate: message truncated at offset 6: need 4294967300 bytes for 1073741825 relation "
      "ids, 4 left");
}

TEST(BadInput, UnknownColumnKind) {
  const Wire w = Wire('I').u32(1).ch('N').columns(2).null().ch('x');
  const DecodeError error = decode_error(w.span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::InvalidValue);
  EXPECT_EQ(error.offset, 9U);
  EXPECT_EQ(error.message,
            "Insert: column 2 of 2 in the new tuple at offset 9 has kind 'x' 0x78; expected 'n', "
            "'u', 't' or 'b'");
}

TEST(BadInput, WrongTupleTags) {
  DecodeError error = decode_error(Wire('I').u32(1).ch('K').columns(0).span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::InvalidValue);
  EXPECT_EQ(error.message, "Insert: tuple tag at offset 5 is 'K' 0x4B; expected 'N'");
  error = decode_error(Wire('U').u32(1).ch('X').columns(0).span(), v1);
  EXPECT_EQ(error.message, "Update: tuple tag at offset 5 is 'X' 0x58; expected 'K', 'O' or 'N'");
  error = decode_error(Wire('U').u32(1).ch('K').columns(0).ch('K').columns(0).span(), v1);
  EXPECT_EQ(error.message,
            "Update: tuple tag at offset 8 is 'K' 0x4B; expected 'N' after the old tuple");
  error = decode_error(Wire('D').u32(1).ch('N').columns(0).span(), v1);
  EXPECT_EQ(error.message, "Delete: tuple tag at offset 5 is 'N' 0x4E; expected 'K' or 'O'");
}

TEST(BadInput, MissingNulTerminator) {
  DecodeError error = decode_error(Wire('R').u32(1).str("public").raw("orders").span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::UnterminatedString);
  EXPECT_EQ(error.offset, 12U);
  EXPECT_EQ(error.message,
            "Relation: relation name at offset 12 has no NUL terminator before the end of the "
            "message (6 bytes left)");
  error = decode_error(Wire('O').u64(1).raw("abc").span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::UnterminatedString);
  error = decode_error(Wire('b').u64(1).u64(2).i64(3).u32(4).raw("gid").span(), v3);
  EXPECT_EQ(error.code, DecodeErrc::UnterminatedString);
}

TEST(BadInput, InvalidUtf8InNames) {
  const Wire w = Wire('R').u32(1).str("public").str("bad\xC3(name").ch('d').u16(0);
  const DecodeError error = decode_error(w.span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::InvalidUtf8);
  EXPECT_EQ(error.offset, 12U);
  EXPECT_EQ(error.message,
            "Relation: relation name at offset 12 is not valid UTF-8: \"bad\\xC3(name\"");
  // A column name, a prefix, a type name.
  EXPECT_EQ(decode_error(Wire('R')
                             .u32(1)
                             .str("s")
                             .str("t")
                             .ch('d')
                             .u16(1)
                             .u8(0)
                             .str("\xFF")
                             .u32(23)
                             .i32(-1)
                             .span(),
                         v1)
                .code,
            DecodeErrc::InvalidUtf8);
  EXPECT_EQ(decode_error(Wire('M').u8(0).u64(1).str("\xC0\x80").u32(0).span(), v1).code,
            DecodeErrc::InvalidUtf8);
  EXPECT_EQ(decode_error(Wire('Y').u32(1).str("\xED\xA0\x80").str("t").span(), v1).code,
            DecodeErrc::InvalidUtf8);
  // Accepted when the caller turns the check off (a database not in UTF-8).
  DecodeContext lenient = v1;
  lenient.validate_utf8 = false;
  EXPECT_TRUE(decode_message(w.span(), lenient));
}

TEST(BadInput, ControlCharactersInNamesStayOutOfErrorText) {
  const Wire w = Wire('R').u32(1).str("public").str("a\nb\x1b[31m\xC3").ch('d').u16(0);
  const DecodeError error = decode_error(w.span(), v1);
  EXPECT_EQ(error.message,
            "Relation: relation name at offset 12 is not valid UTF-8: \"a\\x0Ab\\x1B[31m\\xC3\"");
}

TEST(BadInput, TrailingBytes) {
  const DecodeError error = decode_error(Wire('B').u64(1).i64(2).u32(3).u8(0).span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::TrailingBytes);
  EXPECT_EQ(error.offset, 21U);
  EXPECT_EQ(error.message,
            "Begin: 1 unexpected bytes after the last field, at offset 21 of a 22-byte message");
  // Protocol 4 abort fields without parallel streaming are extra bytes.
  const DecodeContext v4{4, false, false, true};
  EXPECT_EQ(decode_error(Wire('A').u32(9).u32(10).u64(5).i64(6).span(), v4).code,
            DecodeErrc::TrailingBytes);
}

TEST(BadInput, UndefinedFlags) {
  DecodeError error = decode_error(Wire('C').u8(2).u64(1).u64(2).i64(3).span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::InvalidValue);
  EXPECT_EQ(error.offset, 1U);
  EXPECT_EQ(error.message,
            "Commit: flags 0x02 at offset 1 have bits the protocol does not define (known: 0x00)");
  EXPECT_EQ(decode_error(Wire('T').u32(1).u8(4).u32(1).span(), v1).code, DecodeErrc::InvalidValue);
  EXPECT_EQ(decode_error(Wire('M').u8(3).u64(1).str("").u32(0).span(), v1).code,
            DecodeErrc::InvalidValue);
  EXPECT_EQ(decode_error(Wire('S').u32(1).u8(2).span(), v2).code, DecodeErrc::InvalidValue);
}

TEST(BadInput, UnknownReplicaIdentity) {
  const DecodeError error =
      decode_error(Wire('R').u32(1).str("s").str("t").ch('x').u16(0).span(), v1);
  EXPECT_EQ(error.code, DecodeErrc::InvalidValue);
  EXPECT_EQ(error.message,
            "Relation: replica identity 0x78 at offset 9; expected 'd', 'n', 'f' or 'i'");
}

// The Decoder's checks against its relation cache.
Wire relation(Oid id, std::uint16_t columns) {
  Wire w('R');
  w.u32(id).str("public").str("t").ch('d').u16(columns);
  for (std::uint16_t i = 0; i < columns; ++i) {
    w.u8(i == 0 ? 1 : 0).str("c" + std::to_string(i)).u32(23).i32(-1);
  }
  return w;
}

TEST(BadInput, TupleForUndescribedRelation) {
  Decoder decoder;
  const auto decoded = decoder.decode(Wire('I').u32(16384).ch('N').columns(1).text("1").span());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::UnknownRelation);
  EXPECT_EQ(decoded.error().offset, 1U);
  EXPECT_EQ(decoded.error().message,
            "Insert: relation id 16384 at offset 1 was never described by a Relation message");
  const auto truncate = decoder.decode(Wire('T').u32(1).u8(0).u32(16384).span());
  ASSERT_FALSE(truncate);
  EXPECT_EQ(truncate.error().code, DecodeErrc::UnknownRelation);
  EXPECT_EQ(truncate.error().offset, 6U);
}

TEST(BadInput, ColumnCountMismatch) {
  Decoder decoder;
  ASSERT_TRUE(decoder.decode(relation(16384, 5).span()));
  auto decoded =
      decoder.decode(Wire('I').u32(16384).ch('N').columns(3).text("1").text("2").text("3").span());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, DecodeErrc::ColumnCountMismatch);
  EXPECT_EQ(decoded.error().offset, 6U);
  EXPECT_EQ(decoded.error().message_type, 'I');
  EXPECT_EQ(decoded.error().message,
            "Insert: tuple at offset 6 has 3 columns but relation public.t (id 16384) has 5");
  decoded = decoder.decode(Wire('U')
                               .u32(16384)
                               .ch('K')
                               .columns(1)
                               .text("1")
                               .ch('N')
                               .columns(5)
                               .null()
                               .null()
                               .null()
                               .null()
                               .null()
                               .span());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().offset, 6U);
  EXPECT_EQ(decoded.error().message,
            "Update: old key at offset 6 has 1 columns but relation public.t (id 16384) has 5");
  decoded = decoder.decode(
      Wire('D').u32(16384).ch('O').columns(6).null().null().null().null().null().null().span());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().message,
            "Delete: old tuple at offset 6 has 6 columns but relation public.t (id 16384) has 5");
  // The new tuple after a good old key: its own offset.
  decoded = decoder.decode(Wire('U')
                               .u32(16384)
                               .ch('K')
                               .columns(5)
                               .null()
                               .null()
                               .null()
                               .null()
                               .null()
                               .ch('N')
                               .columns(2)
                               .null()
                               .null()
                               .span());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().offset, 14U);
  EXPECT_EQ(decoded.error().message,
            "Update: new tuple at offset 14 has 2 columns but relation public.t (id 16384) has 5");
}

TEST(BadInput, FramesAndMessagesFromRandomBytesNeverCrash) {
  // A cheap deterministic stand-in for the fuzzer, so every test run covers it.
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::string types = "BCORYIUDTMSEcAbPKrpwk";
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::byte> bytes(next() % 40);
    for (auto& b : bytes) b = std::byte{static_cast<std::uint8_t>(next())};
    if (!bytes.empty())
      bytes[0] = std::byte{static_cast<std::uint8_t>(types[next() % types.size()])};
    for (const DecodeContext& context : {v1, v2_stream, v3, v4_parallel}) {
      const auto decoded = decode_message(bytes, context);
      if (!decoded) {
        EXPECT_TRUE(printable(decoded.error().message)) << decoded.error().message;
      }
    }
    const auto frame = decode_copy_data(bytes);
    if (!frame) {
      EXPECT_TRUE(printable(frame.error().message)) << frame.error().message;
    }
  }
}

}  // namespace
}  // namespace vil::pgoutput
