#pragma once
// ChangeEncoder's insides, shared by the two formats' source files.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "relation_layout.hpp"
#include "row_writer.hpp"
#include "utc_time.hpp"
#include "vil/output/change_encoder.hpp"
#include "vil/values/text_encoding.hpp"

namespace vil::output {

struct ChangeEncoder::State {
  explicit State(ChangeEncoderOptions opts);

  void encode_json_lines(const cdc::Change& change, std::string& out);
  void encode_debezium(const cdc::Change& change, std::string& out);
  bool encode_key(const cdc::Change& change, std::string& out);
  // ,"content":"..." or ,"content_base64":"..." (change_encoder.hpp).
  void message_content(const cdc::Change& change, std::string& out);

  ChangeEncoderOptions options;
  detail::LayoutCache layouts;
  detail::RowWriter rows;
  detail::UtcMicrosCache times;

  // Debezium: the constant parts of "source", and the commit LSNs behind
  // source.sequence.
  std::string source_head;  // "source":{"version":..,"connector":..,"name":..,"ts_ms":
  std::string source_db;    // ,"db":"..","sequence":"[
  pgoutput::Lsn current_commit;
  pgoutput::Lsn previous_commit;

  // Debezium with Kafka Connect schemas (options.schemas): each value is
  // {"schema":..,"payload":..}; a relation's schemas live in its layout,
  // the messages' here, each ending in ,"payload":
  bool schemas = false;
  std::string message_schema;
  std::string message_key_schema;

  // Message content -> UTF-8, made once the database's encoding is known.
  std::optional<values::Utf8Transcoder> transcoder;
  std::string content_text;  // the converted content, reused

 private:
  void debezium_source(const cdc::Change& change, std::string_view location, std::string& out);
  void debezium_row(const cdc::Change& change, std::string& out);
  void end_envelope(std::string& out) const;
};

namespace detail {

template <class Int>
void append_int(std::string& out, Int value) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

// "X/Y" with its quotes.
inline void append_lsn(std::string& out, pgoutput::Lsn lsn) {
  const pgoutput::LsnText text = pgoutput::format_lsn(lsn);
  out.push_back('"');
  out.append(text.view());
  out.push_back('"');
}

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace detail
}  // namespace vil::output
