#include "vil/output/change_encoder.hpp"

#include <algorithm>

#include "base64.hpp"
#include "connect_schema.hpp"
#include "encoder_state.hpp"
#include "vil/values/json_writer.hpp"

#ifndef VIL_OUTPUT_VERSION
#error "VIL_OUTPUT_VERSION (the project's version) is set by src/output/CMakeLists.txt"
#endif

namespace vil::output {

std::string_view library_version() noexcept {
  return VIL_OUTPUT_VERSION;
}

ChangeEncoder::State::State(ChangeEncoderOptions opts) : options(std::move(opts)) {
  if (options.version.empty()) options.version = std::string(library_version());
  source_head.append("\"source\":{\"version\":");
  values::write_json_string(source_head, options.version);
  source_head.append(",\"connector\":\"postgresql\",\"name\":");
  values::write_json_string(source_head, options.server_name);
  source_head.append(",\"ts_ms\":");
  source_db.append(",\"db\":");
  values::write_json_string(source_db, options.database);
  source_db.append(",\"sequence\":\"[");
  layouts.set_server_catalog(options.server_catalog.get());
  if (!options.database_encoding.empty()) transcoder.emplace(options.database_encoding);
  schemas = options.schemas && options.format == Format::Debezium;
  if (schemas) {
    layouts.enable_connect_schemas(options.server_name);
    message_schema = detail::message_envelope_schema();
    message_key_schema = detail::message_key_schema();
  }
}

bool ChangeEncoder::State::encode_key(const cdc::Change& change, std::string& out) {
  switch (change.kind) {
    case cdc::ChangeKind::Truncate:
      return false;
    case cdc::ChangeKind::Message:
      // Debezium's key of a logical decoding message.
      if (schemas) out.append(message_key_schema);
      out.append(R"({"prefix":)");
      values::write_json_string(out, change.prefix);
      out.push_back('}');
      if (schemas) out.push_back('}');
      return true;
    case cdc::ChangeKind::Insert:
    case cdc::ChangeKind::Update:
    case cdc::ChangeKind::Delete:
    case cdc::ChangeKind::Read:
      break;
  }
  if (change.relation == nullptr) return false;
  const bool is_delete = change.kind == cdc::ChangeKind::Delete;
  if (is_delete && change.old_kind == pgoutput::OldTuple::None) return false;
  const detail::RelationLayout& layout =
      layouts.get(*change.relation, change.types, change.column_types);
  if (!layout.has_key) return false;  // REPLICA IDENTITY NOTHING, or no primary key
  if (schemas) out.append(layout.key_schema);
  if (is_delete) {
    rows.write_key(out, layout, change.old_tuple, pgoutput::OldTuple::None, {});
  } else {
    rows.write_key(out, layout, change.new_tuple, change.old_kind, change.old_tuple);
  }
  if (schemas) out.push_back('}');
  return true;
}

void ChangeEncoder::State::message_content(const cdc::Change& change, std::string& out) {
  const std::string_view bytes(reinterpret_cast<const char*>(change.content.data()),
                               change.content.size());
  // ASCII is the same text in every server encoding: nothing to ask. (No
  // text holds a NUL: that is left to the transcoder's verdict.)
  const bool ascii = std::all_of(bytes.begin(), bytes.end(), [](char c) {
    return c != '\0' && (static_cast<unsigned char>(c) & 0x80) == 0;
  });
  if (!ascii && !transcoder) {
    if (!change.database_encoding.empty()) {
      transcoder.emplace(change.database_encoding);  // as the stream's session reported it
    } else if (!options.server_catalog) {
      transcoder.emplace("UTF8");  // nobody to ask: the stream's own encoding
    } else if (auto encoding = options.server_catalog->database_encoding()) {
      transcoder.emplace(*encoding);
    }
  }
  // Without a transcoder the server could not say (it is asked again at the
  // next such message): only ASCII without NUL is surely text.
  std::string_view text = bytes;
  bool is_text = ascii;
  if (!ascii && transcoder) {
    content_text.clear();
    is_text = transcoder->append_utf8(bytes, content_text);
    text = content_text;
  }
  if (is_text) {
    out.append(R"(,"content":)");
    values::write_json_string(out, text);
  } else {
    out.append(R"(,"content_base64":")");
    detail::append_base64(out, change.content);
    out.push_back('"');
  }
}

ChangeEncoder::ChangeEncoder(ChangeEncoderOptions options)
    : state_(std::make_unique<State>(std::move(options))) {}
ChangeEncoder::~ChangeEncoder() = default;
ChangeEncoder::ChangeEncoder(ChangeEncoder&&) noexcept = default;
ChangeEncoder& ChangeEncoder::operator=(ChangeEncoder&&) noexcept = default;

bool ChangeEncoder::encode_key(const cdc::Change& change, std::string& out) {
  return state_->encode_key(change, out);
}

void ChangeEncoder::encode(const cdc::Change& change, std::string& out) {
  if (state_->options.format == Format::Debezium) {
    state_->encode_debezium(change, out);
  } else {
    state_->encode_json_lines(change, out);
  }
}

std::uint64_t ChangeEncoder::value_errors() const noexcept {
  return state_->rows.value_errors();
}

const std::string& ChangeEncoder::last_value_error() const noexcept {
  return state_->rows.last_value_error();
}

std::string ChangeEncoder::value_error_summary() const {
  const std::uint64_t n = state_->rows.value_errors();
  if (n == 0) return {};
  std::string out = std::to_string(n);
  out.append(n == 1 ? " value was" : " values were");
  out.append(" not valid text for their type and were written as JSON strings; the first: ");
  out.append(state_->rows.first_value_error_place());
  return out;
}

const ChangeEncoderOptions& ChangeEncoder::options() const noexcept {
  return state_->options;
}

}  // namespace vil::output
