#include "session_setup.hpp"

#include <charconv>

#include <fmt/format.h>

#include "replication_command.hpp"
#include "vil/pgoutput/lsn.hpp"

namespace vil::replication {

namespace {

StreamError refused(StreamErrc code, std::string message, std::string_view sqlstate = {}) {
  return StreamError(code, std::move(message)).with_sqlstate(std::string(sqlstate));
}

StreamError server_error(const ServerError& e, std::string_view doing) {
  return refused(StreamErrc::ServerRefused, fmt::format("{}: {}", doing, e.text()), e.sqlstate);
}

StreamError lost_connection(const ServerError& e, std::string_view doing) {
  if (e.sqlstate.empty()) {
    return refused(StreamErrc::ConnectionLost, fmt::format("{}: {}", doing, e.text()));
  }
  return server_error(e, doing);
}

// "16.4" for 160004 (two parts since PostgreSQL 10).
std::string version_text(int server_version) {
  return fmt::format("{}.{}", server_version / 10000, server_version % 10000);
}

StreamError setting_refused(std::string_view setting, std::string message) {
  return StreamError(StreamErrc::SettingInvalid,
                     fmt::format("cdc.{}: {}", setting, std::move(message)))
      .with_setting(std::string(setting));
}

// Before anything is looked up or made: what this server cannot do at all.
// A standby is read-only, decodes only from 16 on, and cannot make a
// failover slot (it keeps copies of the primary's); failover slots came
// with 17.
std::expected<void, StreamError> check_server_kind(ReplicationConnection& conn,
                                                   const StreamSettings& config,
                                                   SessionInfo& info) {
  if (config.failover && info.server_version < kFirstFailoverVersion) {
    return std::unexpected(setting_refused(
        "failover", fmt::format("failover slots need PostgreSQL 17 or later; the server is {}",
                                version_text(info.server_version))));
  }
  auto rows = conn.execute("SELECT pg_catalog.pg_is_in_recovery()");
  if (!rows) return std::unexpected(lost_connection(rows.error(), "asking whether in recovery"));
  info.in_recovery = !rows->empty() && (*rows)[0][0] == "t";
  if (!info.in_recovery) return {};
  if (config.create_publication) {
    return std::unexpected(setting_refused(
        "create_publication",
        fmt::format("the server at {} is a standby, which is read-only: create publication "
                    "\"{}\" on the primary, and the standby replays it",
                    info.address, config.publication)));
  }
  if (info.server_version < kFirstStandbyDecodingVersion) {
    return std::unexpected(refused(
        StreamErrc::ServerRefused,
        fmt::format("the server at {} is a standby of PostgreSQL {}; logical decoding on a standby "
                    "needs PostgreSQL 16 or later: connect to the primary",
                    info.address, version_text(info.server_version)),
        "0A000"));
  }
  if (config.failover) {
    return std::unexpected(setting_refused(
        "failover", fmt::format("the server at {} is a standby: a failover slot is made on the "
                                "primary, and standbys with sync_replication_slots = on keep a "
                                "copy of it",
                                info.address)));
  }
  return {};
}

std::expected<void, StreamError> check_wal_level(ReplicationConnection& conn) {
  auto rows = conn.execute("SHOW wal_level");
  if (!rows) return std::unexpected(lost_connection(rows.error(), "reading wal_level"));
  std::string level = rows->empty() || !(*rows)[0][0] ? "" : *(*rows)[0][0];
  if (level != "logical") {
    return std::unexpected(
        StreamError(
            StreamErrc::ConnectFailed,
            fmt::format("the server has wal_level = '{}'; logical replication needs wal_level = "
                        "logical (set it in postgresql.conf and restart the server)",
                        level))
            .with_connect_failure(ConnectFailure::WalLevel));
  }
  return {};
}

std::expected<void, StreamError> ensure_publication(ReplicationConnection& conn,
                                                    const StreamSettings& config,
                                                    const std::string& database) {
  auto rows = conn.execute(fmt::format("SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = {}",
                                       conn.quote_literal(config.publication)));
  if (!rows) return std::unexpected(lost_connection(rows.error(), "looking up the publication"));
  if (!rows->empty()) return {};
  if (!config.create_publication) {
    return std::unexpected(refused(
        StreamErrc::PublicationNotFound,
        fmt::format("publication \"{}\" does not exist in database \"{}\"; create it (CREATE "
                    "PUBLICATION {} FOR ALL TABLES) or ask for it to be created",
                    config.publication, database, conn.quote_identifier(config.publication))));
  }
  std::string target = "ALL TABLES";
  if (!config.publication_all_tables) {
    target = "TABLE ";
    for (size_t i = 0; i < config.publication_tables.size(); ++i) {
      std::string_view table = config.publication_tables[i];
      if (i > 0) target += ", ";
      auto dot = table.find('.');
      if (dot != std::string_view::npos) {
        target += conn.quote_identifier(table.substr(0, dot)) + "." +
                  conn.quote_identifier(table.substr(dot + 1));
      } else {
        target += conn.quote_identifier(table);
      }
    }
  }
  auto created = conn.execute(fmt::format("CREATE PUBLICATION {} FOR {}",
                                          conn.quote_identifier(config.publication), target));
  if (!created) {
    return std::unexpected(refused(StreamErrc::PublicationNotFound,
                                   fmt::format("could not create publication \"{}\": {}",
                                               config.publication, created.error().text())));
  }
  return {};
}

// True when it created the slot; `info` then has what the creation returned.
std::expected<bool, StreamError> ensure_slot(ReplicationConnection& conn,
                                             const StreamSettings& config, SessionInfo& info,
                                             const SlotRules& rules) {
  const std::string& database = info.database;
  // invalidation_reason and failover came with PostgreSQL 17, conflicting
  // with 16: read through to_jsonb, they are NULL before.
  auto rows = conn.execute(
      fmt::format("SELECT plugin, slot_type, database, active, active_pid, wal_status, "
                  "to_jsonb(s) ->> 'invalidation_reason', to_jsonb(s) ->> 'conflicting', "
                  "to_jsonb(s) ->> 'failover' "
                  "FROM pg_catalog.pg_replication_slots AS s WHERE slot_name = {}",
                  conn.quote_literal(config.slot_name)));
  if (!rows) return std::unexpected(lost_connection(rows.error(), "looking up the slot"));
  if (rows->empty()) {
    const bool other_server =
        !rules.first_address.empty() &&
        (rules.first_address != info.address || rules.first_timeline != info.timeline);
    if (rules.streamed_up_to && other_server) {
      return std::unexpected(slot_lost_on_other_server_error(config, info, rules));
    }
    if (rules.streamed_up_to)
      return std::unexpected(slot_lost_error(config, *rules.streamed_up_to));
    if (!rules.may_create) {
      return std::unexpected(refused(
          StreamErrc::SlotNotFound,
          fmt::format("replication slot \"{}\" does not exist; create it "
                      "(SELECT pg_create_logical_replication_slot('{}', 'pgoutput')) or ask for "
                      "it to be created",
                      config.slot_name, config.slot_name)));
    }
    auto command = create_slot_command(config);
    if (!command) {
      return std::unexpected(
          StreamError(StreamErrc::SettingInvalid, "the slot name contains a NUL byte")
              .with_setting("slot_name"));
    }
    auto created = conn.execute(*command);
    if (!created) {
      return std::unexpected(server_error(
          created.error(), fmt::format("could not create slot \"{}\"", config.slot_name)));
    }
    // slot_name, consistent_point, snapshot_name, output_plugin.
    if (!created->empty() && created->front().size() >= 3) {
      const auto& made = created->front();
      info.consistent_point =
          pgoutput::parse_lsn(made[1].value_or("")).value_or(pgoutput::Lsn{}).value;
      if (config.export_snapshot) {
        info.exported_snapshot = made[2].value_or("");
        if (!config.temporary_slot && !config.resumable_snapshot) {
          info.snapshot_slot = snapshot_slot_name(config.slot_name);
        }
      }
    }
    return true;
  }
  const auto& row = (*rows)[0];
  auto text = [&](size_t i) { return row[i] ? *row[i] : std::string(); };
  if (text(1) != "logical" || text(0) != "pgoutput") {
    return std::unexpected(refused(
        StreamErrc::ServerRefused,
        fmt::format(
            "replication slot \"{}\" is a {} slot with plugin '{}'; vil-cdc needs a logical "
            "slot with plugin 'pgoutput'",
            config.slot_name, text(1), text(0)),
        "55000"));
  }
  if (text(2) != database) {
    return std::unexpected(
        refused(StreamErrc::ServerRefused,
                fmt::format("replication slot \"{}\" belongs to database \"{}\", not \"{}\"",
                            config.slot_name, text(2), database),
                "55000"));
  }
  // Invalidated: the server would refuse it at START_REPLICATION with less
  // to say; the reason is only in the view.
  if (!text(6).empty()) {
    return std::unexpected(
        invalidated_slot_error(config, fmt::format("invalidation_reason {}", text(6))));
  }
  if (text(5) == "lost") {
    return std::unexpected(
        invalidated_slot_error(config, "wal_status lost: the WAL it needs was removed"));
  }
  // PostgreSQL 16's flag for every invalidation, not only a standby's
  // conflicts: asked last.
  if (text(7) == "true") {
    return std::unexpected(invalidated_slot_error(config, "it was invalidated (conflicting true)"));
  }
  if (text(3) == "t") {
    return std::unexpected(
        refused(StreamErrc::ServerRefused,
                fmt::format("replication slot \"{}\" is in use by another process (PID {})",
                            config.slot_name, text(4)),
                "55006"));
  }
  if (config.failover && text(8) != "true") {
    auto command = failover_on_command(config.slot_name);
    if (!command) {
      return std::unexpected(
          StreamError(StreamErrc::SettingInvalid, "the slot name contains a NUL byte")
              .with_setting("slot_name"));
    }
    auto altered = conn.execute(*command);
    if (!altered) {
      return std::unexpected(server_error(
          altered.error(),
          fmt::format("could not turn failover on for replication slot \"{}\"", config.slot_name)));
    }
    info.failover_turned_on = true;
  }
  return false;
}

// pgoutput streams in parallel mode from protocol 4 (PostgreSQL 16). Plain
// streaming, from protocol 2, is asked for where the protocol has it
// (start_replication_command).
std::expected<void, StreamError> check_streaming(const StreamSettings& config,
                                                 const SessionInfo& info) {
  if (config.streaming != "parallel" || info.protocol_version >= 4) return {};
  if (highest_protocol_version(info.server_version) < 4) {
    return std::unexpected(setting_refused(
        "streaming", fmt::format("parallel needs PostgreSQL 16 or later; the server is {}",
                                 version_text(info.server_version))));
  }
  return std::unexpected(setting_refused("streaming", "parallel needs protocol_version 4"));
}

}  // namespace

uint32_t highest_protocol_version(int server_version) {
  if (server_version >= 160000) return 4;
  if (server_version >= 150000) return 3;
  if (server_version >= 140000) return 2;
  return 1;
}

int64_t parse_duration_ms(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) return 0;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  if (unit == "ms") return value;
  if (unit == "s" || unit.empty()) return value * 1000;
  if (unit == "min") return value * 60'000;
  if (unit == "h") return value * 3'600'000;
  if (unit == "d") return value * 86'400'000;
  return value * 1000;
}

std::expected<void, StreamError> make_snapshot_slot_permanent(ReplicationConnection& conn,
                                                              const StreamSettings& settings,
                                                              const SessionInfo& info) {
  if (info.snapshot_slot.empty()) return {};
  // Every row was delivered: this must complete even if a stop came since.
  auto copied = conn.execute_uninterrupted(
      fmt::format("SELECT pg_catalog.pg_copy_logical_replication_slot({}, {}, false)",
                  conn.quote_literal(info.snapshot_slot), conn.quote_literal(settings.slot_name)));
  if (!copied) {
    return std::unexpected(server_error(
        copied.error(), fmt::format("could not make slot \"{}\" permanent after its snapshot",
                                    settings.slot_name)));
  }
  auto temporary = quote_replication_identifier(info.snapshot_slot);
  if (temporary) (void)conn.execute_uninterrupted("DROP_REPLICATION_SLOT " + *temporary);
  // A copy never fails over, whatever its source (and a temporary slot
  // cannot): the permanent slot is turned to it now.
  if (settings.failover) {
    auto command = failover_on_command(settings.slot_name);
    if (!command) return {};
    if (auto altered = conn.execute_uninterrupted(*command); !altered) {
      return std::unexpected(server_error(
          altered.error(),
          fmt::format("could not turn failover on for slot \"{}\"", settings.slot_name)));
    }
  }
  return {};
}

StreamError slot_lost_error(const StreamSettings& config, uint64_t received) {
  const std::string at = pgoutput::to_string(pgoutput::Lsn{received});
  if (config.temporary_slot) {
    return refused(
        StreamErrc::SlotNotFound,
        fmt::format("the temporary replication slot \"{}\" went with the connection that "
                    "created it; changes after {} could not be recovered (a new slot would start "
                    "at the server's current WAL position and skip them). Use a permanent slot "
                    "to survive reconnects",
                    config.slot_name, at));
  }
  return refused(
      StreamErrc::SlotNotFound,
      fmt::format("replication slot \"{}\" no longer exists: it was dropped after this trigger "
                  "streamed from it up to {}; it is not created again, since a new slot would "
                  "start at the server's current WAL position and changes after {} would be "
                  "silently skipped",
                  config.slot_name, at, at));
}

StreamError slot_lost_on_other_server_error(const StreamSettings& config, const SessionInfo& info,
                                            const SlotRules& rules) {
  const std::string at = pgoutput::to_string(pgoutput::Lsn{rules.streamed_up_to.value_or(0)});
  return refused(
      StreamErrc::SlotNotFound,
      fmt::format("replication slot \"{}\" does not exist on the server at {} (timeline {}), which "
                  "is not the one this run streamed from first ({}, timeline {}): after a "
                  "failover the slot is there only if it is a failover slot the standby had "
                  "synchronized (failover, PostgreSQL 17+, with sync_replication_slots = on on "
                  "the standby). Changes after {} cannot be streamed from this server; a new "
                  "slot with a snapshot is needed",
                  config.slot_name, info.address, info.timeline, rules.first_address,
                  rules.first_timeline, at));
}

std::expected<SessionInfo, StreamError> set_up_session(ReplicationConnection& conn,
                                                       const StreamSettings& config,
                                                       const SlotRules& slot_rules) {
  SessionInfo info;
  info.server_version = conn.server_version();
  if (info.server_version < kFirstPgoutputVersion) {
    return std::unexpected(refused(
        StreamErrc::ServerRefused,
        fmt::format("the server is PostgreSQL {}.{}, which has no pgoutput logical replication; "
                    "vil-cdc needs PostgreSQL 10 or later",
                    info.server_version / 10000, info.server_version / 100 % 100),
        "0A000"));
  }
  info.address = conn.address();
  if (auto r = check_server_kind(conn, config, info); !r) return std::unexpected(r.error());
  auto identity = conn.execute("IDENTIFY_SYSTEM");
  if (!identity || identity->empty() || (*identity)[0].size() < 4) {
    ServerError e =
        identity ? ServerError{"", "IDENTIFY_SYSTEM returned no row", "", ""} : identity.error();
    return std::unexpected(lost_connection(e, "identifying the server"));
  }
  const auto& id = (*identity)[0];
  info.system_id = id[0].value_or("");
  info.timeline = static_cast<uint32_t>(std::stoul(id[1].value_or("0")));
  // The server's own pg_lsn text; 0/0 should it ever not be one.
  info.server_wal_end = pgoutput::parse_lsn(id[2].value_or("")).value_or(pgoutput::Lsn{}).value;
  info.database = id[3].value_or("");
  info.server_encoding = conn.parameter("server_encoding");

  if (auto r = check_wal_level(conn); !r) return std::unexpected(r.error());
  auto timeout = conn.execute("SHOW wal_sender_timeout");
  if (timeout && !timeout->empty() && (*timeout)[0][0]) {
    info.wal_sender_timeout_ms = parse_duration_ms(*(*timeout)[0][0]);
  }
  // Before anything is created: a setting the server cannot honour leaves
  // no slot or publication behind.
  const uint32_t highest = highest_protocol_version(info.server_version);
  if (config.protocol_version > highest) {
    return std::unexpected(
        StreamError(StreamErrc::SettingInvalid,
                    fmt::format("protocol_version {} is not supported by this server (PostgreSQL "
                                "{}.{} speaks up to {})",
                                config.protocol_version, info.server_version / 10000,
                                info.server_version % 10000, highest))
            .with_setting("protocol_version"));
  }
  info.protocol_version = config.protocol_version == 0 ? highest : config.protocol_version;
  if (auto r = check_streaming(config, info); !r) return std::unexpected(r.error());

  if (auto r = ensure_publication(conn, config, info.database); !r) {
    return std::unexpected(r.error());
  }
  auto created = ensure_slot(conn, config, info, slot_rules);
  if (!created) return std::unexpected(created.error());
  info.slot_created = *created;
  return info;
}

}  // namespace vil::replication
