// libFuzzer target for the pgoutput decoder (see README.md).
//
// Input: one options byte, then records of Int16 length + bytes (the last
// record takes whatever is left). Options: bits 0-1 protocol version - 1,
// bit 2 parallel streaming, bit 3 UTF-8 checks off, bit 4 records are CopyData
// frames (XLogData payloads go to the decoder) rather than bare messages.
// Records go through one Decoder in order, so Relation records earlier in the
// input prime its relation cache for the changes after them; each record is
// also decoded statelessly in every context. What the stateful decoder accepts
// is then used the way a consumer uses it: Type messages register their types,
// and every text column of a change is converted (values::convert) with its
// relation's type OID and written as JSON (values::write_json_value).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "touch_value.hpp"
#include "vil/pgoutput/pgoutput.hpp"
#include "vil/values/convert.hpp"
#include "vil/values/json_writer.hpp"
#include "vil/values/type_info.hpp"

namespace {

using namespace vil::pgoutput;

// Invariants a decoded message must hold; a violation aborts the run.
void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    __builtin_trap();
  }
}

struct Bounds {
  const std::byte* begin;
  const std::byte* end;
  bool contains(std::span<const std::byte> s) const {
    return s.empty() || (s.data() >= begin && s.data() + s.size() <= end);
  }
  bool contains(std::string_view s) const {
    return contains(std::as_bytes(std::span(s.data(), s.size())));
  }
};

volatile std::uint64_t sink;

void touch(std::span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  for (const std::byte b : bytes) sum += static_cast<std::uint8_t>(b);
  sink = sink + sum;
}

void walk(const TupleView& tuple, const Bounds& bounds) {
  std::size_t count = 0;
  for (const ColumnValue& value : tuple) {
    require(bounds.contains(value.bytes), "column value inside the message");
    require(value.has_value() || value.bytes.empty(), "no bytes for null or toast");
    touch(value.bytes);
    (void)is_valid_utf8(value.bytes);
    ++count;
  }
  require(count == tuple.size(), "tuple iterates size() columns");
  require(bounds.contains(tuple.wire_bytes()), "tuple inside the message");
}

void walk(const Message& message, const Bounds& bounds) {
  if (const auto* relation = std::get_if<Relation>(&message)) {
    std::size_t count = 0;
    for (const RelationColumn& column : relation->columns) {
      require(bounds.contains(column.name), "column name inside the message");
      ++count;
    }
    require(count == relation->columns.size(), "relation iterates size() columns");
  } else if (const auto* insert = std::get_if<Insert>(&message)) {
    walk(insert->new_tuple, bounds);
  } else if (const auto* update = std::get_if<Update>(&message)) {
    walk(update->old_tuple, bounds);
    walk(update->new_tuple, bounds);
    require(update->old_kind != OldTuple::None || update->old_tuple.empty(),
            "no old tuple without a tag");
  } else if (const auto* del = std::get_if<Delete>(&message)) {
    walk(del->old_tuple, bounds);
  } else if (const auto* truncate = std::get_if<Truncate>(&message)) {
    std::size_t count = 0;
    for (const Oid id : truncate->relation_ids) {
      sink = sink + id;
      ++count;
    }
    require(count == truncate->relation_ids.size(), "truncate iterates size() ids");
  } else if (const auto* logical = std::get_if<LogicalMessage>(&message)) {
    require(bounds.contains(logical->content) && bounds.contains(logical->prefix),
            "message inside");
    touch(logical->content);
    require(parse_lsn(to_string(logical->lsn)) == logical->lsn, "LSN text round trip");
  } else if (const auto* begin = std::get_if<Begin>(&message)) {
    sink = sink + static_cast<std::uint64_t>(begin->commit_time.unix_ns());
  }
  require(!message_name(message).empty(), "every message has a name");
}

// What a consumer does with a decoded change: each text column to its typed
// value and to JSON, by the type its relation gives it.
void convert_columns(const TupleView& tuple, const RelationSchema& relation,
                     const vil::values::TypeCatalog& types, const Bounds& bounds) {
  std::size_t i = 0;
  std::string json;
  for (const ColumnValue& value : tuple) {
    const ColumnSchema& column = relation.columns[i++];
    if (value.kind != ColumnKind::Text) continue;
    const vil::values::TypeInfo type = types.find(column.type_oid);
    const auto typed = vil::values::convert(type, value.text());
    if (typed) {
      sink = sink + vil::fuzz::touch(*typed);
      if (const auto* text = std::get_if<vil::values::Text>(&*typed)) {
        require(bounds.contains(text->text), "a text value is a view into the message");
        require(is_valid_utf8(text->text), "a converted text value is UTF-8");
      }
    } else {
      require(!typed.error().message.empty(), "a value error has a message");
      require(is_valid_utf8(typed.error().message), "a value error message is UTF-8");
      require(typed.error().offset <= value.bytes.size(), "a value error offset inside the value");
    }
    json.clear();
    const auto written = vil::values::write_json_value(json, type, value.text());
    // The writer keeps what convert refuses only as text (bad UTF-8 replaced),
    // never the other way round.
    require(written || !typed, "the JSON writer refused what convert accepted");
    require(is_valid_utf8(json), "JSON output is UTF-8");
  }
}

void check_error(const DecodeError& error, std::size_t size) {
  require(!error.message.empty(), "error has a message");
  require(is_valid_utf8(error.message), "error message is UTF-8");
  for (const char c : error.message) {
    const auto u = static_cast<unsigned char>(c);
    require(u >= 0x20 && u != 0x7F, "error message is printable");
  }
  require(error.offset <= size, "error offset inside the input");
}

void use_decoded(const DecodedMessage& decoded, vil::values::TypeCatalog& types,
                 const Bounds& bounds) {
  const Message& message = decoded.message;
  if (const auto* type = std::get_if<Type>(&message)) {
    types.add_type(type->id, type->namespace_name, type->name);
    return;
  }
  if (decoded.relation == nullptr) return;
  const RelationSchema& relation = *decoded.relation;
  if (const auto* insert = std::get_if<Insert>(&message)) {
    convert_columns(insert->new_tuple, relation, types, bounds);
  } else if (const auto* update = std::get_if<Update>(&message)) {
    convert_columns(update->old_tuple, relation, types, bounds);
    convert_columns(update->new_tuple, relation, types, bounds);
  } else if (const auto* del = std::get_if<Delete>(&message)) {
    convert_columns(del->old_tuple, relation, types, bounds);
  }
}

void decode_payload(Decoder& decoder, vil::values::TypeCatalog& types,
                    std::span<const std::byte> payload) {
  const Bounds bounds{payload.data(), payload.data() + payload.size()};
  auto decoded = decoder.decode(payload);
  if (decoded) {
    walk(decoded->message, bounds);
    use_decoded(*decoded, types, bounds);
  } else {
    check_error(decoded.error(), payload.size());
  }
  for (std::uint32_t version = 1; version <= 4; ++version) {
    for (const bool in_stream : {false, true}) {
      const DecodeContext context{version, in_stream, version == 4, true};
      auto stateless = decode_message(payload, context);
      if (stateless) {
        walk(*stateless, bounds);
      } else {
        check_error(stateless.error(), payload.size());
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t options = data[0];
  DecoderOptions decoder_options;
  decoder_options.protocol_version = (options & 3U) + 1;
  decoder_options.parallel_streaming = (options & 4U) != 0;
  decoder_options.validate_utf8 = (options & 8U) == 0;
  const bool frames = (options & 16U) != 0;
  Decoder decoder(decoder_options);
  vil::values::TypeCatalog types;

  const auto* p = reinterpret_cast<const std::byte*>(data) + 1;
  std::size_t left = size - 1;
  while (left > 0) {
    std::size_t length = left;
    if (left >= 2) {
      length =
          (std::size_t{static_cast<std::uint8_t>(p[0])} << 8) | static_cast<std::uint8_t>(p[1]);
      p += 2;
      left -= 2;
      if (length > left) length = left;
    } else {
      length = left;
    }
    const std::span<const std::byte> record(p, length);
    p += length;
    left -= length;

    (void)parse_lsn(std::string_view(reinterpret_cast<const char*>(record.data()), record.size()));
    if (frames) {
      auto frame = decode_copy_data(record);
      if (!frame) {
        check_error(frame.error(), record.size());
        continue;
      }
      if (const auto* xlog = std::get_if<XLogData>(&*frame)) {
        require(xlog->payload.data() == record.data() + kXLogDataHeaderSize,
                "payload follows the XLogData header");
        decode_payload(decoder, types, xlog->payload);
      }
    } else {
      decode_payload(decoder, types, record);
    }
  }
  return 0;
}
