#pragma once
// One line of text per decoded message, for golden tests. Leaves out what
// changes from one capture to the next (LSNs, xids, times, relation and
// user type OIDs): tests check those by how they relate instead.

#include <fmt/format.h>

#include <string>
#include <variant>

#include "vil/pgoutput/decoder.hpp"

namespace vil::pgoutput::testing {

inline std::string render_value(const ColumnValue& v) {
  switch (v.kind) {
    case ColumnKind::Null:
      return "null";
    case ColumnKind::UnchangedToast:
      return "toast";
    case ColumnKind::Text: {
      // Long values (a TOASTed column) by their start and size.
      std::string out = "'";
      append_printable(out, v.text().substr(0, 80));
      if (v.text().size() > 80) return out + fmt::format("...' ({} bytes)", v.text().size());
      return out + "'";
    }
    case ColumnKind::Binary: {
      std::string out = "b:";
      for (const std::byte b : v.bytes) out += fmt::format("{:02x}", static_cast<unsigned>(b));
      return out;
    }
  }
  return "?";
}

inline std::string render_tuple(const TupleView& tuple) {
  std::string out = "(";
  bool first = true;
  for (const ColumnValue& v : tuple) {
    if (!first) out += ", ";
    first = false;
    out += render_value(v);
  }
  return out + ")";
}

inline std::string render_type(const Decoder& decoder, Oid oid) {
  // Built-in OIDs are stable; user types get a new OID with every capture.
  if (oid < 16384) return std::to_string(oid);
  const TypeSchema* type = decoder.types().find(oid);
  return type ? type->qualified_name : "oid?";
}

inline std::string relation_name(const Decoder& decoder, Oid id) {
  const RelationSchema* relation = decoder.relations().find(id);
  return relation ? relation->qualified_name : "?";
}

inline std::string render(const Decoder& decoder, const Message& message) {
  const auto xid = [](const std::optional<Xid>& x) { return x ? " [xid]" : ""; };
  struct Visitor {
    const Decoder& decoder;
    decltype(xid)& x;
    std::string operator()(const Begin&) const { return "Begin"; }
    std::string operator()(const Commit& m) const {
      return fmt::format("Commit flags={}", m.flags);
    }
    std::string operator()(const Origin& m) const {
      return fmt::format("Origin {} {}", m.name, to_string(m.commit_lsn));
    }
    std::string operator()(const Relation& m) const {
      std::string out =
          fmt::format("Relation{} {}.{} identity={} columns=", x(m.xid), m.namespace_name, m.name,
                      static_cast<char>(m.replica_identity));
      bool first = true;
      for (const RelationColumn& c : m.columns) {
        out +=
            fmt::format("{}{}:{}{}{}", first ? "" : ",", c.name, render_type(decoder, c.type_oid),
                        c.type_modifier == -1 ? "" : fmt::format("({})", c.type_modifier),
                        c.is_key() ? ":key" : "");
        first = false;
      }
      return out;
    }
    std::string operator()(const Type& m) const {
      return fmt::format("Type{} {}.{}", x(m.xid), m.namespace_name, m.name);
    }
    std::string operator()(const Insert& m) const {
      return fmt::format("Insert{} {} N{}", x(m.xid), relation_name(decoder, m.relation_id),
                         render_tuple(m.new_tuple));
    }
    std::string operator()(const Update& m) const {
      std::string old;
      if (m.old_kind != OldTuple::None) {
        old = fmt::format(" {}{}", static_cast<char>(m.old_kind), render_tuple(m.old_tuple));
      }
      return fmt::format("Update{} {}{} N{}", x(m.xid), relation_name(decoder, m.relation_id), old,
                         render_tuple(m.new_tuple));
    }
    std::string operator()(const Delete& m) const {
      return fmt::format("Delete{} {} {}{}", x(m.xid), relation_name(decoder, m.relation_id),
                         static_cast<char>(m.old_kind), render_tuple(m.old_tuple));
    }
    std::string operator()(const Truncate& m) const {
      std::string out = fmt::format("Truncate{} cascade={} restart_identity={}", x(m.xid),
                                    m.cascade(), m.restart_identity());
      for (const Oid id : m.relation_ids) out += " " + relation_name(decoder, id);
      return out;
    }
    std::string operator()(const LogicalMessage& m) const {
      std::string content;
      append_printable(content,
                       {reinterpret_cast<const char*>(m.content.data()), m.content.size()});
      return fmt::format("Message{} transactional={} prefix={} content='{}'", x(m.xid),
                         m.transactional(), m.prefix, content);
    }
    std::string operator()(const StreamStart& m) const {
      return fmt::format("Stream Start first={}", m.first_segment);
    }
    std::string operator()(const StreamStop&) const { return "Stream Stop"; }
    std::string operator()(const StreamCommit&) const { return "Stream Commit"; }
    std::string operator()(const StreamAbort& m) const {
      return fmt::format("Stream Abort {}{}", m.xid == m.subxid ? "top" : "sub",
                         m.abort_lsn ? " with abort info" : "");
    }
    std::string operator()(const BeginPrepare& m) const {
      return fmt::format("Begin Prepare {}", m.gid);
    }
    std::string operator()(const Prepare& m) const { return fmt::format("Prepare {}", m.gid); }
    std::string operator()(const CommitPrepared& m) const {
      return fmt::format("Commit Prepared {}", m.gid);
    }
    std::string operator()(const RollbackPrepared& m) const {
      return fmt::format("Rollback Prepared {}", m.gid);
    }
    std::string operator()(const StreamPrepare& m) const {
      return fmt::format("Stream Prepare {}", m.gid);
    }
  };
  return std::visit(Visitor{decoder, xid}, message);
}

}  // namespace vil::pgoutput::testing
