// Format::JsonLines (docs/DESIGN.md §4.1; the layout is described in change_encoder.hpp).
#include <cstring>

#include "encoder_state.hpp"
#include "vil/values/json_writer.hpp"

namespace vil::output {
namespace {

using cdc::Change;
using cdc::ChangeKind;
using detail::append_lsn;

std::string_view opening(ChangeKind kind) noexcept {
  switch (kind) {
    case ChangeKind::Insert:
      return R"({"op":"insert",)";
    case ChangeKind::Update:
      return R"({"op":"update",)";
    case ChangeKind::Delete:
      return R"({"op":"delete",)";
    case ChangeKind::Truncate:
      return R"({"op":"truncate",)";
    case ChangeKind::Read:
      return R"({"op":"read",)";
    case ChangeKind::Message:
      break;
  }
  return R"({"op":"message",)";
}

// At most 10 digits: the caller has room.
char* put_decimal(char* p, std::uint32_t value) noexcept {
  char digits[10];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

// ,"commit_lsn":..,"lsn":..,"seq":..,"xid":..,"commit_ts":.. put together on
// the stack and appended at once: this is a fifth of a short row's work.
void transaction_fields(const Change& change, detail::UtcMicrosCache& times, std::string& out) {
  char buf[192];
  char* p = buf;
  const auto put = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  // A snapshot's rows have one LSN for both: written once.
  const pgoutput::LsnText commit = pgoutput::format_lsn(change.commit_lsn);
  put(R"(,"commit_lsn":")");
  put(commit.view());
  put(R"(","lsn":")");
  put(change.lsn == change.commit_lsn ? commit.view() : pgoutput::format_lsn(change.lsn).view());
  put(R"(","seq":)");
  p = put_decimal(p, change.ordinal);
  put(R"(,"xid":)");
  p = put_decimal(p, change.xid);
  put(R"(,"commit_ts":")");
  put(times.text(change.commit_time_ns));
  *p++ = '"';
  out.append(buf, static_cast<std::size_t>(p - buf));
}

}  // namespace

void ChangeEncoder::State::encode_json_lines(const Change& change, std::string& out) {
  out.append(opening(change.kind));
  switch (change.kind) {
    case ChangeKind::Insert:
    case ChangeKind::Update:
    case ChangeKind::Delete:
    case ChangeKind::Read: {
      const detail::RelationLayout* layout =
          change.relation != nullptr
              ? &layouts.get(*change.relation, change.types, change.column_types)
              : nullptr;
      if (layout != nullptr) {
        out.append(layout->location);
      } else {
        out.append(R"("schema":null,"table":null)");
      }
      transaction_fields(change, times, out);
      out.append(R"(,"before":)");
      if (layout != nullptr && change.kind != ChangeKind::Insert &&
          change.kind != ChangeKind::Read && change.old_kind != pgoutput::OldTuple::None) {
        rows.write_old(out, *layout, change.old_tuple, change.old_kind == pgoutput::OldTuple::Key,
                       detail::UnsentToast::Omit);
      } else {
        values::write_json_null(out);
      }
      out.append(R"(,"after":)");
      if (layout != nullptr && change.kind != ChangeKind::Delete) {
        rows.write_new(out, *layout, change.new_tuple, change.old_kind, change.old_tuple,
                       detail::UnsentToast::Omit);
        if (const auto omitted = rows.omitted(); !omitted.empty()) {
          out.append(R"(,"unchanged_toast":[)");
          for (std::size_t i = 0; i < omitted.size(); ++i) {
            if (i != 0) out.push_back(',');
            out.append(layout->columns[omitted[i]].quoted_name());
          }
          out.push_back(']');
        }
      } else {
        values::write_json_null(out);
      }
      break;
    }
    case ChangeKind::Truncate: {
      out.append(R"("tables":[)");
      bool first = true;
      for (const pgoutput::RelationSchema* relation : change.truncated) {
        if (relation == nullptr) continue;
        if (!first) out.push_back(',');
        first = false;
        values::write_json_string(out, relation->qualified_name);
      }
      out.append(change.cascade ? R"(],"cascade":true)" : R"(],"cascade":false)");
      out.append(change.restart_identity ? R"(,"restart_identity":true)"
                                         : R"(,"restart_identity":false)");
      transaction_fields(change, times, out);
      break;
    }
    case ChangeKind::Message: {
      out.append(R"("prefix":)");
      values::write_json_string(out, change.prefix);
      message_content(change, out);
      if (change.transactional) {
        out.append(R"(,"transactional":true)");
        transaction_fields(change, times, out);
      } else {
        // Outside any transaction: no commit, xid or place in one.
        out.append(R"(,"transactional":false,"lsn":)");
        append_lsn(out, change.lsn);
        out.append(R"(,"ts":")");
        out.append(times.text(change.commit_time_ns));
        out.push_back('"');
      }
      break;
    }
  }
  out.append("}\n");
}

}  // namespace vil::output
