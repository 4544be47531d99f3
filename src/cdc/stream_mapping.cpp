#include "stream_mapping.hpp"

#include "vil/log/dictionary.hpp"

namespace vil::cdc {

namespace {
// The transport's reasons are reported to owners by number.
constexpr bool same_number(replication::ConnectFailure a, ConnectionFailure b) {
  return static_cast<uint32_t>(a) == static_cast<uint32_t>(b);
}
using replication::ConnectFailure;
static_assert(same_number(ConnectFailure::Unreachable, ConnectionFailure::Unreachable));
static_assert(same_number(ConnectFailure::AuthFailed, ConnectionFailure::AuthFailed));
static_assert(same_number(ConnectFailure::ServerShutdown, ConnectionFailure::ServerShutdown));
static_assert(same_number(ConnectFailure::BadConnString, ConnectionFailure::BadConnString));
static_assert(same_number(ConnectFailure::NotReplication, ConnectionFailure::NotReplication));
static_assert(same_number(ConnectFailure::WalLevel, ConnectionFailure::WalLevel));
static_assert(same_number(ConnectFailure::Other, ConnectionFailure::Other));
}  // namespace

replication::StreamSettings stream_settings(const CdcConfig& config) {
  replication::StreamSettings settings;
  settings.conn_string = config.conn_string;
  settings.application_name = config.application_name;
  settings.slot_name = config.slot_name;
  settings.publication = config.publication;
  settings.create_slot = config.create_slot;
  settings.temporary_slot = config.temporary_slot;
  settings.failover = config.failover;
  settings.export_snapshot = config.snapshot == SnapshotMode::Initial;
  settings.resumable_snapshot = !config.snapshot_state.empty();
  settings.create_publication = config.create_publication;
  settings.publication_all_tables = config.publication_scope.all_tables;
  settings.publication_tables = config.publication_scope.tables;
  settings.protocol_version = config.protocol_version;
  // Where the protocol cannot stream (protocol_version 1, or a server
  // before 14), `on` is not sent and the server spills as with `off`.
  if (config.streaming != Streaming::Off)
    settings.streaming = std::string(to_string(config.streaming));
  // Always: the incremental snapshot's watermarks are messages. Delivery
  // drops the others when the owner asked for none.
  settings.messages = true;
  settings.status_interval = config.status_interval;
  settings.initial_backoff = config.reconnect.initial_backoff;
  settings.max_backoff = config.reconnect.max_backoff;
  settings.max_reconnect_attempts = config.reconnect.max_attempts;
  return settings;
}

CdcFault to_cdc_fault(const replication::StreamError& error, const CdcConfig& config) {
  using replication::StreamErrc;
  const auto slot = [&] { return log::register_str(config.slot_name); };
  switch (error.code) {
    case StreamErrc::ConnectFailed:
      return CdcFault(
          ConnectionFailed{log::register_str(replication::redact_conn_string(config.conn_string)),
                           static_cast<uint32_t>(error.connect_failure)},
          error.message);
    case StreamErrc::ServerRefused:
      return CdcFault(ReplicationStartFailed{slot(), pack_sqlstate(error.sqlstate)}, error.message);
    case StreamErrc::SlotNotFound:
      return CdcFault(SlotNotFound{slot()}, error.message);
    case StreamErrc::PublicationNotFound:
      return CdcFault(PublicationNotFound{log::register_str(config.publication)}, error.message);
    case StreamErrc::ConnectionLost:
      return CdcFault(StreamClosed{slot()}, error.message);
    case StreamErrc::StatusUpdateFailed:
      return CdcFault(KeepaliveFailed{error.os_error}, error.message);
    case StreamErrc::MalformedFrame:
      return CdcFault(MalformedMessage{error.message_type, error.offset}, error.message);
    case StreamErrc::SettingInvalid:
      return CdcFault(ConfigInvalid{log::register_str("cdc." + error.setting)}, error.message);
    case StreamErrc::NoticeFailed:
      return CdcFault(DeliveryFailed{0}, error.message);
    case StreamErrc::ServerFailed:
      return CdcFault(StreamFailed{slot(), pack_sqlstate(error.sqlstate)}, error.message);
  }
  return CdcFault(StreamClosed{slot()}, error.message);
}

}  // namespace vil::cdc
