// The one place where the transport's settings and errors meet the trigger's
// (docs/DESIGN.md §1.1): every CdcConfig field the transport needs, and every
// StreamErrc as the CdcFault variant, hash and message an owner sees.

#include "cdc/stream_mapping.hpp"

#include <gtest/gtest.h>

#include "vil/log/dictionary.hpp"

namespace vil::cdc {
namespace {

using namespace std::chrono_literals;
using replication::ConnectFailure;
using replication::StreamErrc;
using replication::StreamError;

// The fault's variant T, or a failure and T{} when it is another.
template <class T>
T detail_of(const CdcFault& fault) {
  const T* detail = fault.get<T>();
  if (detail == nullptr) {
    ADD_FAILURE() << "the fault is " << fault.to_string();
    return T{};
  }
  return *detail;
}

CdcConfig config() {
  CdcConfig c;
  c.conn_string = "host=db user=u password=s3cret dbname=app";
  c.slot_name = "slot_a";
  c.publication = "pub_a";
  return c;
}

TEST(StreamMapping, SettingsCarryEveryFieldTheTransportUses) {
  CdcConfig c = config();
  c.application_name = "app";
  c.create_slot = true;
  c.temporary_slot = true;
  c.create_publication = true;
  c.publication_scope = PublicationScope{false, {"public.t", "u"}};
  c.protocol_version = 3;
  c.messages = false;
  c.status_interval = 1234ms;
  c.reconnect = ReconnectPolicy{20ms, 900ms, 7};
  const replication::StreamSettings s = stream_settings(c);
  EXPECT_EQ(s.conn_string, c.conn_string);
  EXPECT_EQ(s.application_name, "app");
  EXPECT_EQ(s.slot_name, "slot_a");
  EXPECT_EQ(s.publication, "pub_a");
  EXPECT_TRUE(s.create_slot);
  EXPECT_TRUE(s.temporary_slot);
  EXPECT_TRUE(s.create_publication);
  EXPECT_FALSE(s.publication_all_tables);
  EXPECT_EQ(s.publication_tables, (std::vector<std::string>{"public.t", "u"}));
  EXPECT_EQ(s.protocol_version, 3u);
  EXPECT_TRUE(s.messages) << "always: the incremental snapshot's watermarks are messages";
  EXPECT_EQ(s.status_interval, 1234ms);
  EXPECT_EQ(s.initial_backoff, 20ms);
  EXPECT_EQ(s.max_backoff, 900ms);
  EXPECT_EQ(s.max_reconnect_attempts, 7u);
  EXPECT_FALSE(s.slot_streamed_before) << "the trigger sets it per run";
  EXPECT_EQ(s.streaming, "on") << "on by default";
  c.streaming = Streaming::Off;
  EXPECT_EQ(stream_settings(c).streaming, "") << "off: not sent at all";
  c.streaming = Streaming::Parallel;
  EXPECT_EQ(stream_settings(c).streaming, "parallel");
}

TEST(StreamMapping, EachErrorBecomesItsFault) {
  const CdcConfig c = config();
  const uint32_t slot = log::register_str("slot_a");
  const auto map = [&](StreamError e) { return to_cdc_fault(e, c); };

  CdcFault connect = map(StreamError(StreamErrc::ConnectFailed, "no")
                             .with_connect_failure(ConnectFailure::AuthFailed));
  EXPECT_EQ(detail_of<ConnectionFailed>(connect).reason_code, 2u);
  EXPECT_EQ(detail_of<ConnectionFailed>(connect).conn_hash,
            log::register_str(redact_conn_string(c.conn_string)));
  EXPECT_EQ(redact_conn_string(c.conn_string), "user=u password=******** dbname=app host=db");
  EXPECT_EQ(connect.message(), "no");
  EXPECT_FALSE(connect.is_retryable());

  CdcFault refused = map(StreamError(StreamErrc::ServerRefused, "busy").with_sqlstate("55006"));
  EXPECT_EQ(detail_of<ReplicationStartFailed>(refused).slot_hash, slot);
  EXPECT_EQ(unpack_sqlstate(detail_of<ReplicationStartFailed>(refused).pg_error_code), "55006");
  EXPECT_TRUE(refused.is_retryable());

  EXPECT_EQ(detail_of<SlotNotFound>(map(StreamError(StreamErrc::SlotNotFound, "x"))).slot_hash,
            slot);
  EXPECT_EQ(detail_of<PublicationNotFound>(map(StreamError(StreamErrc::PublicationNotFound, "x")))
                .pub_hash,
            log::register_str("pub_a"));
  EXPECT_EQ(detail_of<StreamClosed>(map(StreamError(StreamErrc::ConnectionLost, "x"))).slot_hash,
            slot);
  EXPECT_EQ(detail_of<KeepaliveFailed>(
                map(StreamError(StreamErrc::StatusUpdateFailed, "x").with_os_error(32)))
                .os_code,
            32);
  StreamError malformed(StreamErrc::MalformedFrame, "x");
  malformed.message_type = 'x';
  malformed.offset = 3;
  const CdcFault bad = map(malformed);
  EXPECT_EQ(detail_of<MalformedMessage>(bad).msg_type, 'x');
  EXPECT_EQ(detail_of<MalformedMessage>(bad).offset, 3u);
  EXPECT_EQ(detail_of<ConfigInvalid>(
                map(StreamError(StreamErrc::SettingInvalid, "x").with_setting("protocol_version")))
                .field_hash,
            log::register_str("cdc.protocol_version"));
  EXPECT_EQ(detail_of<DeliveryFailed>(map(StreamError(StreamErrc::NoticeFailed, "x"))).sequence,
            0u);
  const CdcFault failed = map(StreamError(StreamErrc::ServerFailed, "x").with_sqlstate("22P05"));
  EXPECT_EQ(unpack_sqlstate(detail_of<StreamFailed>(failed).pg_error_code), "22P05");
  EXPECT_FALSE(failed.is_retryable());
}

TEST(StreamMapping, RetryableAgreesOnBothSides) {
  const CdcConfig c = config();
  const std::vector<StreamError> errors = {
      StreamError(StreamErrc::ConnectFailed, "x").with_connect_failure(ConnectFailure::Unreachable),
      StreamError(StreamErrc::ConnectFailed, "x").with_connect_failure(ConnectFailure::WalLevel),
      StreamError(StreamErrc::ServerRefused, "x").with_sqlstate("57P01"),
      StreamError(StreamErrc::ServerRefused, "x").with_sqlstate("42501"),
      StreamError(StreamErrc::ConnectionLost, "x"),
      StreamError(StreamErrc::StatusUpdateFailed, "x"),
      StreamError(StreamErrc::SlotNotFound, "x"),
      StreamError(StreamErrc::SettingInvalid, "x"),
  };
  for (const StreamError& e : errors) {
    EXPECT_EQ(e.is_retryable(), to_cdc_fault(e, c).is_retryable()) << e.message;
  }
}

}  // namespace
}  // namespace vil::cdc
