#include "vil/cdc/snapshot_request.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "publication_tables.hpp"
#include "snapshot_connection.hpp"
#include "vil/log/dictionary.hpp"
#include "vil/replication/stream_error.hpp"
#include "vil/replication/stream_settings.hpp"

namespace vil::cdc {

namespace {

// The publication's table that `name` ("schema.table" or "table") means.
std::expected<const SnapshotTable*, std::string> find_table(
    const std::vector<SnapshotTable>& tables, std::string_view name,
    const std::string& publication) {
  const size_t dot = name.find('.');
  const SnapshotTable* found = nullptr;
  for (const SnapshotTable& table : tables) {
    const bool match = dot == std::string_view::npos
                           ? table.schema.name == name
                           : table.schema.namespace_name == name.substr(0, dot) &&
                                 table.schema.name == name.substr(dot + 1);
    if (!match) continue;
    if (found != nullptr) {
      return std::unexpected(
          fmt::format("table \"{}\" is in more than one schema of publication \"{}\": name it as "
                      "schema.table",
                      name, publication));
    }
    found = &table;
  }
  if (found == nullptr) {
    return std::unexpected(
        fmt::format("table \"{}\" is not in publication \"{}\"", name, publication));
  }
  return found;
}

}  // namespace

std::expected<pgoutput::Lsn, CdcFault> request_snapshot(const std::string& conn_string,
                                                        const std::string& publication,
                                                        std::span<const std::string> tables) {
  const auto refused = [&](const std::string& why, std::string_view table) {
    return std::unexpected(CdcFault(
        SnapshotFailed{log::register_str(table.empty() ? std::string_view(publication) : table)},
        fmt::format("the snapshot request was refused: {}", why)));
  };
  if (tables.empty()) return refused("it names no table", {});
  auto conn =
      connect_for_snapshot(conn_string, "vil-cdc snapshot request", "to request a snapshot");
  if (!conn) {
    return std::unexpected(
        CdcFault(ConnectionFailed{log::register_str(replication::redact_conn_string(conn_string)),
                                  static_cast<uint32_t>(replication::classify_connect_error(
                                      conn.error(), /*needs_password=*/false))},
                 conn.error()));
  }
  PGconn* c = conn->get();
  auto listed = list_publication_tables(c, publication);
  if (!listed) {
    if (listed.error().ends_with("does not exist")) {
      return std::unexpected(
          CdcFault(PublicationNotFound{log::register_str(publication)},
                   fmt::format("the snapshot request was refused: {}", listed.error())));
    }
    return refused(listed.error(), {});
  }
  nlohmann::json request;
  request["publication"] = publication;
  request["tables"] = nlohmann::json::array();
  for (const std::string& name : tables) {
    auto table = find_table(*listed, name, publication);
    if (!table) return refused(table.error(), name);
    if (!(*table)->key_problem.empty()) return refused((*table)->key_problem, name);
    request["tables"].push_back(
        {{"schema", (*table)->schema.namespace_name}, {"table", (*table)->schema.name}});
  }
  const std::string content = request.dump();
  const std::string prefix(kSnapshotRequestPrefix);
  const char* params[] = {prefix.c_str(), content.c_str()};
  PqResult written(PQexecParams(c, "SELECT pg_catalog.pg_logical_emit_message(true, $1, $2)::text",
                                2, nullptr, params, nullptr, nullptr, 0));
  if (written.status() != PGRES_TUPLES_OK || PQntuples(written.get()) != 1) {
    return refused(fmt::format("writing it failed: {}", one_line(PQerrorMessage(c))), {});
  }
  return pgoutput::parse_lsn(PQgetvalue(written.get(), 0, 0)).value_or(pgoutput::Lsn{});
}

}  // namespace vil::cdc
