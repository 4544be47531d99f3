#include "metrics_server.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <httplib.h>

#include "health.hpp"
#include "prometheus_text.hpp"

namespace vil::cli {

namespace {

// One connection's worth of threads is plenty: Prometheus scrapes once per
// interval, a load balancer's health check not much more often.
constexpr size_t kServerThreads = 2;

}  // namespace

std::optional<ListenAddress> parse_listen_address(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  ListenAddress address;
  address.host = text.substr(0, colon);
  if (address.host.front() == '[') {
    if (address.host.size() < 3 || address.host.back() != ']') return std::nullopt;
    address.host = address.host.substr(1, address.host.size() - 2);
  } else if (address.host.find(':') != std::string::npos) {
    return std::nullopt;  // an IPv6 address needs its brackets
  }
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  const auto [end, error] = std::from_chars(first, last, address.port);
  if (error != std::errc() || end != last || address.port < 0 || address.port > 65535) {
    return std::nullopt;
  }
  return address;
}

MetricsServer::MetricsServer(MetricsServerOptions options, const cdc::CdcTrigger& trigger)
    : options_(std::move(options)),
      trigger_(trigger),
      server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  const MetricsLabels labels{options_.slot_name, options_.sink != "file"};
  server_->Get("/metrics", [this, labels](const httplib::Request&, httplib::Response& response) {
    response.set_content(prometheus_text(trigger_.metrics(), labels),
                         "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& response) {
    std::optional<std::string> fault;
    {
      std::lock_guard lock(mutex_);
      fault = fault_;
    }
    const Health health =
        judge_health(trigger_.metrics(), options_.slot_name, options_.max_backpressure, fault);
    response.status = health.healthy ? 200 : 503;
    response.set_content(health.reason + "\n", "text/plain; charset=utf-8");
  });
}

std::expected<std::unique_ptr<MetricsServer>, std::string> MetricsServer::start(
    MetricsServerOptions options, const cdc::CdcTrigger& trigger) {
  const ListenAddress address = options.address;
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(options), trigger));
  errno = 0;
  const bool bound = address.port == 0
                         ? (server->port_ = server->server_->bind_to_any_port(address.host)) > 0
                         : server->server_->bind_to_port(address.host, address.port);
  if (!bound) {
    const int cause = errno;
    return std::unexpected(
        fmt::format("--metrics-addr: cannot listen on {}:{}{}", address.host, address.port,
                    cause != 0 ? std::string(": ") + std::strerror(cause) : std::string()));
  }
  if (address.port != 0) server->port_ = address.port;
  httplib::Server& http = *server->server_;
  server->thread_ = std::thread([&http] { http.listen_after_bind(); });
  return server;
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void MetricsServer::set_fault(const std::string& message) {
  std::lock_guard lock(mutex_);
  fault_ = message;
}

}  // namespace vil::cli
