#pragma once
// A replication session in miniature for the encoder tests: hand-built
// pgoutput messages go through pgoutput::Decoder and become cdc::Change values
// the way the trigger assembles them (commit LSN, xid and commit time from
// Begin, ordinals within the transaction), then through a ChangeEncoder. Every
// line the encoder writes is checked to parse as JSON.

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgoutput/wire.hpp"
#include "vil/cdc/change.hpp"
#include "vil/output/change_encoder.hpp"
#include "vil/pgoutput/decoder.hpp"

namespace vil::output::testing {

using pgoutput::testing::Wire;

// Built-in type OIDs used by the tests.
namespace oid {
inline constexpr pgoutput::Oid boolean = 16, bytea = 17, int8 = 20, int2 = 21, int4 = 23, text = 25,
                               json = 114, float4 = 700, float8 = 701, int4_array = 1007,
                               text_array = 1009, timestamp = 1114, timestamptz = 1184,
                               interval = 1186, numeric = 1700, uuid = 2950, jsonb = 3802;
}

struct Column {
  std::string_view name;
  pgoutput::Oid type;
  bool key = false;
};

inline Wire relation(pgoutput::Oid id, std::string_view ns, std::string_view name, char identity,
                     std::initializer_list<Column> columns) {
  Wire w('R');
  w.u32(id).str(ns).str(name).ch(identity).u16(static_cast<std::uint16_t>(columns.size()));
  for (const Column& c : columns) w.u8(c.key ? 1 : 0).str(c.name).u32(c.type).i32(-1);
  return w;
}

inline Wire type(pgoutput::Oid id, std::string_view ns, std::string_view name) {
  return std::move(Wire('Y').u32(id).str(ns).str(name));
}

// Begin{final_lsn, commit time in PostgreSQL microseconds, xid}.
inline Wire begin(std::uint64_t commit_lsn, std::int64_t pg_micros, std::uint32_t xid) {
  return std::move(Wire('B').u64(commit_lsn).i64(pg_micros).u32(xid));
}

inline Wire commit(std::uint64_t commit_lsn, std::uint64_t end_lsn, std::int64_t pg_micros) {
  return std::move(Wire('C').u8(0).u64(commit_lsn).u64(end_lsn).i64(pg_micros));
}

inline Wire truncate(std::initializer_list<pgoutput::Oid> ids, std::uint8_t options) {
  Wire w('T');
  w.u32(static_cast<std::uint32_t>(ids.size())).u8(options);
  for (const pgoutput::Oid id : ids) w.u32(id);
  return w;
}

inline Wire message(bool transactional, std::uint64_t lsn, std::string_view prefix,
                    std::string_view content) {
  Wire w('M');
  w.u8(transactional ? 1 : 0).u64(lsn).str(prefix).u32(static_cast<std::uint32_t>(content.size()));
  return std::move(w.raw(content));
}

// 2026-11-24T01:05:00.123456Z.
inline constexpr std::int64_t commit_pg_micros = 848'797'500'123'456;
// When a non-transactional message is "received": 2026-11-24T01:06:00.000000789Z.
inline constexpr std::int64_t received_unix_ns = 1'795'482'360'000'000'789;
// The Debezium encoder's clock: 2026-11-24T01:07:00.042Z.
inline std::int64_t fixed_clock_ns() {
  return 1'795'482'420'042'000'000;
}

inline ChangeEncoderOptions jsonl_options() {
  return {};
}

inline ChangeEncoderOptions debezium_options() {
  ChangeEncoderOptions options;
  options.format = Format::Debezium;
  options.database = "shop";
  options.version = "9.9.9";
  options.clock_ns = &fixed_clock_ns;
  return options;
}

class Session {
 public:
  explicit Session(ChangeEncoderOptions options = {}) : encoder_(std::move(options)) {}

  // Feeds a message that makes no change (Begin, Commit, Relation, Type).
  void feed(const Wire& w) {
    auto decoded = decoder_.decode(w.span());
    ASSERT_TRUE(decoded) << decoded.error().message;
    if (const auto* b = std::get_if<pgoutput::Begin>(&decoded->message)) {
      xid_ = b->xid;
      commit_lsn_ = b->final_lsn;
      commit_time_ns_ = b->commit_time.unix_ns();
      ordinal_ = 0;
    }
  }

  // Feeds a change message found at WAL position `lsn` and returns what the
  // encoder wrote for it: one or more lines, each ending in '\n'.
  std::string encode(const Wire& w, std::uint64_t lsn) {
    auto decoded = decoder_.decode(w.span());
    if (!decoded) {
      ADD_FAILURE() << decoded.error().message;
      return {};
    }
    cdc::Change change;
    change.lsn = pgoutput::Lsn{lsn};
    change.relation = decoded->relation;
    change.types = &decoder_.types();
    std::vector<const pgoutput::RelationSchema*> truncated;
    bool is_change = true;
    std::visit(
        [&](const auto& m) {
          using M = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<M, pgoutput::Insert>) {
            change.kind = cdc::ChangeKind::Insert;
            change.new_tuple = m.new_tuple;
          } else if constexpr (std::is_same_v<M, pgoutput::Update>) {
            change.kind = cdc::ChangeKind::Update;
            change.old_kind = m.old_kind;
            change.old_tuple = m.old_tuple;
            change.new_tuple = m.new_tuple;
          } else if constexpr (std::is_same_v<M, pgoutput::Delete>) {
            change.kind = cdc::ChangeKind::Delete;
            change.old_kind = m.old_kind;
            change.old_tuple = m.old_tuple;
          } else if constexpr (std::is_same_v<M, pgoutput::Truncate>) {
            change.kind = cdc::ChangeKind::Truncate;
            for (const pgoutput::Oid id : m.relation_ids) {
              truncated.push_back(decoder_.relations().find(id));
            }
            change.truncated = truncated;
            change.cascade = m.cascade();
            change.restart_identity = m.restart_identity();
          } else if constexpr (std::is_same_v<M, pgoutput::LogicalMessage>) {
            change.kind = cdc::ChangeKind::Message;
            change.lsn = m.lsn;
            change.prefix = m.prefix;
            change.content = m.content;
            change.transactional = m.transactional();
          } else {
            is_change = false;
          }
        },
        decoded->message);
    if (!is_change) {
      ADD_FAILURE() << "not a change: " << pgoutput::message_name(decoded->message);
      return {};
    }
    if (change.kind != cdc::ChangeKind::Message || change.transactional) {
      change.xid = xid_;
      change.commit_lsn = commit_lsn_;
      change.commit_time_ns = commit_time_ns_;
      change.ordinal = ordinal_++;
    } else {
      change.commit_time_ns = received_unix_ns;
    }
    return encode(change);
  }

  // Encodes a hand-made Change (and its key, after keep_keys()).
  std::string encode(const cdc::Change& change) {
    if (keep_keys_) encode_key(change);
    std::string out = "unrelated text before ";
    const std::size_t start = out.size();
    encoder_.encode(change, out);
    if (out.compare(0, start, "unrelated text before ") != 0) {
      ADD_FAILURE() << "the encoder changed what was in the buffer";
    }
    out.erase(0, start);
    check_lines(out);
    return out;
  }

  // Every line is one JSON object, and the output ends with a line break.
  static void check_lines(std::string_view out) {
    EXPECT_FALSE(out.empty());
    EXPECT_EQ(out.back(), '\n') << out;
    std::size_t begin = 0;
    while (begin < out.size()) {
      const std::size_t end = out.find('\n', begin);
      ASSERT_NE(end, std::string_view::npos);
      const std::string_view line = out.substr(begin, end - begin);
      const auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << line;
      EXPECT_TRUE(parsed.is_object()) << line;
      begin = end + 1;
    }
  }

  // From now on, encode() also asks for each change's key: last_key().
  void keep_keys() { keep_keys_ = true; }
  // What encode_key() gave for the last change encoded; nullopt: no key.
  [[nodiscard]] const std::optional<std::string>& last_key() const { return last_key_; }

  [[nodiscard]] ChangeEncoder& encoder() { return encoder_; }
  [[nodiscard]] pgoutput::Decoder& decoder() { return decoder_; }

 private:
  pgoutput::Decoder decoder_;
  ChangeEncoder encoder_;
  std::uint32_t xid_ = 0;
  pgoutput::Lsn commit_lsn_;
  std::int64_t commit_time_ns_ = 0;
  std::uint32_t ordinal_ = 0;
  bool keep_keys_ = false;
  std::optional<std::string> last_key_;

  // A key is one JSON object without a line break; no key appends nothing.
  void encode_key(const cdc::Change& change) {
    std::string out = "before ";
    const bool has = encoder_.encode_key(change, out);
    if (out.compare(0, 7, "before ") != 0) ADD_FAILURE() << "the key changed the buffer";
    out.erase(0, 7);
    if (!has) {
      EXPECT_EQ(out, "") << "no key, but something was appended";
      last_key_.reset();
      return;
    }
    EXPECT_EQ(out.find('\n'), std::string::npos) << out;
    const auto parsed = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(parsed.is_object()) << "not a JSON object: " << out;
    last_key_ = std::move(out);
  }
};

// The first line of `out` parsed (for tests that look at single fields).
inline nlohmann::json parse_line(std::string_view out) {
  return nlohmann::json::parse(out.substr(0, out.find('\n')));
}

}  // namespace vil::output::testing
