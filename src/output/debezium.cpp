// Format::Debezium: the value Debezium's PostgreSQL connector writes with
// schemas disabled (the layout and the differences are in change_encoder.hpp).
#include "base64.hpp"
#include "encoder_state.hpp"
#include "vil/core/unix_time.hpp"
#include "vil/values/json_writer.hpp"

namespace vil::output {
namespace {

using cdc::Change;
using cdc::ChangeKind;
using detail::append_int;

std::int64_t now_ns(const ChangeEncoderOptions& options) {
  if (options.clock_ns != nullptr) return options.clock_ns();
  return static_cast<std::int64_t>(core::unix_now_ns());
}

// ,"op":"x","ts_ms":N
void op_and_time(std::string& out, char op, const ChangeEncoderOptions& options) {
  out.append(R"(,"op":")");
  out.push_back(op);
  out.append(R"(","ts_ms":)");
  append_int(out, detail::floor_div(now_ns(options), 1'000'000));
}

char row_op(ChangeKind kind) noexcept {
  switch (kind) {
    case ChangeKind::Insert:
      return 'c';
    case ChangeKind::Update:
      return 'u';
    case ChangeKind::Read:
      return 'r';
    default:
      return 'd';
  }
}

// A decimal LSN inside source.sequence, itself a JSON string: \"123\".
void sequence_lsn(std::string& out, pgoutput::Lsn lsn) {
  if (!lsn.valid()) {
    out.append("null");
    return;
  }
  out.append(R"(\")");
  append_int(out, lsn.value);
  out.append(R"(\")");
}

}  // namespace

// "source":{...}, with `location` the "schema":..,"table":.. fragment.
void ChangeEncoder::State::debezium_source(const Change& change, std::string_view location,
                                           std::string& out) {
  const bool transactional = change.in_transaction();
  if (transactional && change.commit_lsn != current_commit) {
    previous_commit = current_commit;
    current_commit = change.commit_lsn;
  }
  out.append(source_head);
  append_int(out, detail::floor_div(change.commit_time_ns, 1'000'000));
  // Debezium's source.snapshot: "true" for a snapshot's rows, "last" for its
  // last one, "false" for what the stream carried.
  if (change.kind != ChangeKind::Read) {
    out.append(R"(,"snapshot":"false")");
  } else {
    if (change.incremental_snapshot) {
      out.append(R"(,"snapshot":"incremental")");
    } else {
      out.append(change.snapshot_last ? R"(,"snapshot":"last")" : R"(,"snapshot":"true")");
    }
  }
  out.append(source_db);
  // Debezium's [last committed LSN, this LSN]: for a change inside a
  // transaction the last commit is the transaction before it.
  sequence_lsn(out, transactional ? previous_commit : current_commit);
  out.push_back(',');
  sequence_lsn(out, change.lsn);
  out.append(R"(]",)");
  out.append(location);
  out.append(R"(,"txId":)");
  if (transactional) {
    append_int(out, change.xid);
  } else {
    out.append("null");
  }
  out.append(R"(,"lsn":)");
  append_int(out, change.lsn.value);
  out.append(R"(,"xmin":null})");
}

void ChangeEncoder::State::debezium_row(const Change& change, std::string& out) {
  const detail::RelationLayout* layout =
      change.relation != nullptr ? &layouts.get(*change.relation, change.types, change.column_types)
                                 : nullptr;
  if (schemas) {
    // A Change without its relation (never delivered) has no schema.
    out.append(layout != nullptr ? std::string_view(layout->envelope_schema)
                                 : std::string_view(R"({"schema":null,"payload":)"));
  }
  out.append(R"({"before":)");
  if (layout != nullptr && change.kind != ChangeKind::Insert && change.kind != ChangeKind::Read &&
      change.old_kind != pgoutput::OldTuple::None) {
    // Debezium's `before` has the table's every column: for an old key
    // (REPLICA IDENTITY DEFAULT or USING INDEX) the key columns hold their
    // values and the others are null, which is what the server's key tuple
    // says too.
    rows.write_old(out, *layout, change.old_tuple, /*key_only=*/false,
                   detail::UnsentToast::Placeholder);
  } else {
    values::write_json_null(out);
  }
  out.append(R"(,"after":)");
  if (layout != nullptr && change.kind != ChangeKind::Delete) {
    rows.write_new(out, *layout, change.new_tuple, change.old_kind, change.old_tuple,
                   detail::UnsentToast::Placeholder);
  } else {
    values::write_json_null(out);
  }
  out.push_back(',');
  debezium_source(change,
                  layout != nullptr ? std::string_view(layout->location)
                                    : std::string_view(R"("schema":null,"table":null)"),
                  out);
  op_and_time(out, row_op(change.kind), options);
  end_envelope(out);
}

// ,"transaction":null}, the payload's closing brace with schemas, '\n'.
void ChangeEncoder::State::end_envelope(std::string& out) const {
  out.append(schemas ? std::string_view(",\"transaction\":null}}\n")
                     : std::string_view(",\"transaction\":null}\n"));
}

void ChangeEncoder::State::encode_debezium(const Change& change, std::string& out) {
  switch (change.kind) {
    case ChangeKind::Insert:
    case ChangeKind::Update:
    case ChangeKind::Delete:
    case ChangeKind::Read:
      debezium_row(change, out);
      return;
    case ChangeKind::Truncate: {
      // Debezium writes one event per truncated table.
      std::string location;
      for (const pgoutput::RelationSchema* relation : change.truncated) {
        if (relation == nullptr) continue;
        location.assign(R"("schema":)");
        values::write_json_string(location, relation->namespace_name);
        location.append(R"(,"table":)");
        values::write_json_string(location, relation->name);
        if (schemas) {
          // The table's own envelope schema (Debezium sends a truncate to
          // the table's topic); one that no row of this run described yet is
          // derived now.
          const detail::RelationLayout* layout = layouts.find(*relation);
          if (layout == nullptr) layout = &layouts.get(*relation, change.types);
          out.append(layout->envelope_schema);
        }
        out.append(R"({"before":null,"after":null,)");
        debezium_source(change, location, out);
        op_and_time(out, 't', options);
        end_envelope(out);
      }
      return;
    }
    case ChangeKind::Message: {
      if (schemas) out.append(message_schema);
      out.append(R"({"op":"m","ts_ms":)");
      append_int(out, detail::floor_div(now_ns(options), 1'000'000));
      out.push_back(',');
      debezium_source(change, R"("schema":"","table":"")", out);
      out.append(R"(,"message":{"prefix":)");
      values::write_json_string(out, change.prefix);
      out.append(R"(,"content":")");
      detail::append_base64(out, change.content);
      out.append(schemas ? "\"}}}\n" : "\"}}\n");
      return;
    }
  }
}

}  // namespace vil::output
