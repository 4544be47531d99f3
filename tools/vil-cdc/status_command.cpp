#include "status_command.hpp"

#include <libpq-fe.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "exit_codes.hpp"

namespace vil::cli {

namespace {

struct Finish {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
using Connection = std::unique_ptr<PGconn, Finish>;

struct Clear {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, Clear>;

void print_error(const std::string& text) {
  std::fprintf(stderr, "vil-cdc: %s\n", text.c_str());
}

// libpq's message on one line, without its trailing newline.
std::string one_line(const char* message) {
  std::string text;
  for (const char* c = message; c != nullptr && *c != '\0'; ++c) {
    const bool space = *c == '\n' || *c == '\t' || *c == ' ';
    if (space && (text.empty() || text.back() == ' ')) continue;
    text.push_back(space ? ' ' : *c);
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// An ordinary connection (libpq's messages never hold the password); null
// after printing why not.
Connection connect(const std::string& conn) {
  const char* keys[] = {"dbname", "application_name", "fallback_application_name", nullptr};
  const char* values[] = {conn.c_str(), nullptr, "vil-cdc status", nullptr};
  Connection c(PQconnectdbParams(keys, values, 1));
  if (PQstatus(c.get()) != CONNECTION_OK) {
    print_error(fmt::format("cannot connect: {}", one_line(PQerrorMessage(c.get()))));
    return nullptr;
  }
  return c;
}

Result query(PGconn* conn, const char* sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  return Result(PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(),
                             nullptr, nullptr, 0));
}

// The logical slots, and the server's WAL position they lag behind (on a
// standby, what it received).
constexpr const char* kSlots = R"(
SELECT s.slot_name, s.plugin, s.database, s.active, s.active_pid, a.application_name,
       s.confirmed_flush_lsn::text, w.lsn::text,
       pg_wal_lsn_diff(w.lsn, s.confirmed_flush_lsn)::bigint, s.wal_status, s.safe_wal_size,
       s.temporary
  FROM pg_replication_slots s
  CROSS JOIN (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()
                          ELSE pg_current_wal_lsn() END AS lsn) w
  LEFT JOIN pg_stat_activity a ON a.pid = s.active_pid
 WHERE s.slot_type = 'logical' AND ($1 = '' OR s.slot_name = $1)
 ORDER BY s.slot_name)";

constexpr const char* kPublication = R"(
SELECT p.pubname, t.schemaname || '.' || t.tablename
  FROM pg_publication p LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname
 WHERE p.pubname = $1
 ORDER BY 2)";

nlohmann::ordered_json value_or_null(const PGresult* r, int row, int column) {
  if (PQgetisnull(r, row, column) != 0) return nullptr;
  return std::string(PQgetvalue(r, row, column));
}

nlohmann::ordered_json number_or_null(const PGresult* r, int row, int column) {
  if (PQgetisnull(r, row, column) != 0) return nullptr;
  return std::stoll(PQgetvalue(r, row, column));
}

std::string text(const nlohmann::ordered_json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

}  // namespace

void StatusOptions::add_to(CLI::App& command) {
  command.add_option("--conn", conn_, "libpq connection string or URI of the database")->required();
  command.add_option("--slot", slot_, "only this slot (default: every logical slot)");
  command.add_option("--publication", publication_,
                     "also list this publication's tables "
                     "(default: none)");
  command.add_flag("--json", json_, "one JSON object instead of a table");
}

int StatusOptions::run() const {
  const Connection conn = connect(conn_);
  if (!conn) return ExitConnection;
  const Result slots = query(conn.get(), kSlots, {slot_});
  if (PQresultStatus(slots.get()) != PGRES_TUPLES_OK) {
    print_error(fmt::format("reading pg_replication_slots failed: {}",
                            one_line(PQresultErrorMessage(slots.get()))));
    return ExitFailure;
  }
  if (!slot_.empty() && PQntuples(slots.get()) == 0) {
    print_error(fmt::format("no logical replication slot named \"{}\"", slot_));
    return ExitSlot;
  }
  nlohmann::ordered_json report;
  report["slots"] = nlohmann::ordered_json::array();
  const PGresult* r = slots.get();
  for (int row = 0; row < PQntuples(r); ++row) {
    nlohmann::ordered_json slot;
    slot["slot"] = value_or_null(r, row, 0);
    slot["plugin"] = value_or_null(r, row, 1);
    slot["database"] = value_or_null(r, row, 2);
    slot["active"] = std::string_view(PQgetvalue(r, row, 3)) == "t";
    slot["active_pid"] = number_or_null(r, row, 4);
    slot["application_name"] = value_or_null(r, row, 5);
    slot["confirmed_flush_lsn"] = value_or_null(r, row, 6);
    slot["server_lsn"] = value_or_null(r, row, 7);
    slot["lag_bytes"] = number_or_null(r, row, 8);
    slot["wal_status"] = value_or_null(r, row, 9);
    slot["safe_wal_size"] = number_or_null(r, row, 10);
    slot["temporary"] = std::string_view(PQgetvalue(r, row, 11)) == "t";
    report["slots"].push_back(std::move(slot));
  }
  if (!publication_.empty()) {
    const Result tables = query(conn.get(), kPublication, {publication_});
    if (PQresultStatus(tables.get()) != PGRES_TUPLES_OK) {
      print_error(fmt::format("reading publication \"{}\" failed: {}", publication_,
                              one_line(PQresultErrorMessage(tables.get()))));
      return ExitFailure;
    }
    if (PQntuples(tables.get()) == 0) {
      print_error(fmt::format("no publication named \"{}\"", publication_));
      return ExitSlot;
    }
    nlohmann::ordered_json names = nlohmann::ordered_json::array();
    for (int row = 0; row < PQntuples(tables.get()); ++row) {
      if (PQgetisnull(tables.get(), row, 1) == 0) names.push_back(PQgetvalue(tables.get(), row, 1));
    }
    report["publication"] = {{"name", publication_}, {"tables", std::move(names)}};
  }

  if (json_) {
    std::printf("%s\n", report.dump().c_str());
    return ExitOk;
  }
  // A table: one line per slot, the columns as wide as their widest value.
  const std::vector<std::pair<std::string, std::string>> columns = {
      {"slot", "SLOT"},
      {"plugin", "PLUGIN"},
      {"database", "DATABASE"},
      {"active_pid", "ACTIVE PID"},
      {"application_name", "APPLICATION"},
      {"confirmed_flush_lsn", "CONFIRMED"},
      {"lag_bytes", "LAG BYTES"},
      {"wal_status", "WAL STATUS"},
      {"safe_wal_size", "SAFE WAL SIZE"}};
  std::vector<size_t> widths;
  for (const auto& [key, title] : columns) {
    size_t width = title.size();
    for (const auto& slot : report["slots"]) width = std::max(width, text(slot[key]).size());
    widths.push_back(width);
  }
  const auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += fmt::format("{:<{}}", cells[i], widths[i] + (i + 1 < cells.size() ? 2 : 0));
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  };
  std::vector<std::string> titles;
  for (const auto& [key, title] : columns) titles.push_back(title);
  print_row(titles);
  for (const auto& slot : report["slots"]) {
    std::vector<std::string> cells;
    for (const auto& [key, title] : columns) cells.push_back(text(slot[key]));
    print_row(cells);
  }
  if (report.contains("publication")) {
    std::printf("\npublication %s:", publication_.c_str());
    for (const auto& table : report["publication"]["tables"]) {
      std::printf(" %s", table.get<std::string>().c_str());
    }
    std::printf("\n");
  }
  return ExitOk;
}

void DropSlotOptions::add_to(CLI::App& command) {
  command.add_option("--conn", conn_, "libpq connection string or URI of the database")->required();
  command.add_option("--slot", slot_, "the logical replication slot to drop")->required();
  command.add_flag("--yes", yes_,
                   "yes, drop it: what the slot kept for its consumer is gone for good");
}

int DropSlotOptions::run() const {
  if (!yes_) {
    print_error(fmt::format(
        "drop-slot: dropping slot \"{}\" loses every change it kept for its consumer; add --yes "
        "to drop it",
        slot_));
    return ExitUsage;
  }
  const Connection conn = connect(conn_);
  if (!conn) return ExitConnection;
  const Result exists = query(
      conn.get(),
      "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND slot_type = 'logical'", {slot_});
  if (PQresultStatus(exists.get()) == PGRES_TUPLES_OK && PQntuples(exists.get()) == 0) {
    print_error(fmt::format("no logical replication slot named \"{}\"", slot_));
    return ExitSlot;
  }
  const Result dropped = query(conn.get(), "SELECT pg_drop_replication_slot($1)", {slot_});
  if (PQresultStatus(dropped.get()) != PGRES_TUPLES_OK) {
    // In use by a stream, say: the slot's business (exit 4).
    print_error(fmt::format("cannot drop slot \"{}\": {}", slot_,
                            one_line(PQresultErrorMessage(dropped.get()))));
    return ExitSlot;
  }
  std::fprintf(stderr, "vil-cdc: dropped slot \"%s\"\n", slot_.c_str());
  return ExitOk;
}

}  // namespace vil::cli
