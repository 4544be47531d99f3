#pragma once
// --metrics-addr: an HTTP server (Debian's cpp-httplib) on threads of its
// own serving /metrics (the Prometheus text format, prometheus_text.hpp) and
// /healthz (health.hpp). A scrape reads CdcTrigger::metrics(), counters the
// stream keeps anyway: it never waits for the stream, nor the stream for it.

#include <chrono>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "vil/cdc/cdc_trigger.hpp"

namespace httplib {
class Server;
}

namespace vil::cli {

struct ListenAddress {
  std::string host;  // without the brackets of "[::1]:9187"
  int port = 0;      // 0: any free port
};

// "HOST:PORT", "[IPV6]:PORT"; nullopt for anything else.
std::optional<ListenAddress> parse_listen_address(const std::string& text);

struct MetricsServerOptions {
  ListenAddress address;
  std::string slot_name;
  std::string sink;  // file, http, kafka or nats: the sink_* metrics only for a broker's
  std::chrono::milliseconds max_backpressure{60'000};
};

class MetricsServer {
 public:
  // Listens, or says why it cannot ("cannot listen on 127.0.0.1:9187: ...").
  static std::expected<std::unique_ptr<MetricsServer>, std::string> start(
      MetricsServerOptions options, const cdc::CdcTrigger& trigger);
  ~MetricsServer();  // stops serving, joins its threads
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port it listens on (the one chosen when asked for port 0).
  [[nodiscard]] int port() const { return port_; }
  // The run ended with this fault: /healthz says so from now on.
  void set_fault(const std::string& message);

 private:
  MetricsServer(MetricsServerOptions options, const cdc::CdcTrigger& trigger);

  MetricsServerOptions options_;
  const cdc::CdcTrigger& trigger_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::optional<std::string> fault_;  // under mutex_
};

}  // namespace vil::cli
