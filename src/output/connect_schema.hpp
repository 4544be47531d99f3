#pragma once
// Kafka Connect schemas, as JsonConverter with schemas.enable=true writes them
// ({"type":..,"fields":[..],"optional":..,"name":..,"version":..,"field":..}),
// for Format::Debezium with ChangeEncoderOptions::schemas: the schemas
// Debezium's PostgreSQL connector declares, with each column's type
// describing what this library writes for it (docs/DESIGN.md §4.2, §4.3).
// Made once per relation description; a row only appends the text.

#include <string>
#include <string_view>

#include "relation_layout.hpp"
#include "vil/values/type_info.hpp"

namespace vil::output::detail {

// Fills layout.envelope_schema with {"schema":<the Envelope struct>,"payload":
// and layout.key_schema with {"schema":<the Key struct>,"payload": (empty when
// the relation has no key columns). Names are
// <server_name>.<schema>.<table>.Envelope|Value|Key. Uses the columns' types
// before json_as_text().
void build_connect_schemas(RelationLayout& layout, std::string_view server_name);

// A column's type as written when schemas are on: json and jsonb (also as an
// array's elements) become text, so their values are JSON strings.
void json_as_text(values::TypeInfo& type) noexcept;

// One column's schema, without its "field" name and closing brace:
// {"type":"int32","optional":true
void append_column_schema(std::string& out, const values::TypeInfo& type, bool optional);

// {"schema":<Debezium's MessageValue struct>,"payload":
[[nodiscard]] std::string message_envelope_schema();
// {"schema":<Debezium's MessageKey struct>,"payload":
[[nodiscard]] std::string message_key_schema();

}  // namespace vil::output::detail
