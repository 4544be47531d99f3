// `vil-cdc stream --metrics-addr`: /metrics during a stream holds exactly the
// changes written, passes Prometheus' own `promtool check metrics`, and its
// lag falls to 0 once caught up; /healthz answers 503 while the server is
// down and 200 once it is back; a real Prometheus server scrapes it; a bad
// address exits 2. And the slot's safety: a slot the server invalidated
// (wal_status lost) ends the run with exit 4 saying a new slot is needed.

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

struct Reply {
  int status = 0;  // 0: no answer
  std::string body;
};

Reply http_get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto result = client.Get(path);
  if (!result) return {};
  return {result->status, result->body};
}

// Every sample of a scrape: "name{labels}" -> value.
std::map<std::string, double> samples_of(const std::string& text) {
  std::map<std::string, double> samples;
  for (const std::string& line : lines_of(text)) {
    if (line.empty() || line.front() == '#') continue;
    const size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return samples;
}

// A socket bound to a port of 127.0.0.1 the kernel chose, listening or not.
class LoopbackPort {
 public:
  explicit LoopbackPort(bool listening) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), size), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size), 0);
    if (listening) {
      EXPECT_EQ(listen(fd_, 1), 0);
    }
    port_ = ntohs(address.sin_port);
  }
  ~LoopbackPort() { close(fd_); }
  LoopbackPort(const LoopbackPort&) = delete;
  LoopbackPort& operator=(const LoopbackPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// A port no one listens on now.
int free_port() {
  return LoopbackPort(false).port();
}

class CliMetrics : public CliTest {
 protected:
  // vil-cdc stream (not quiet: it says where it listens) with metrics on a
  // free port, and that port once it said so.
  std::unique_ptr<ChildProcess> start_stream(std::initializer_list<std::string> more = {}) {
    std::vector<std::string> args{"stream",      "--conn",
                                  conninfo(),    "--slot",
                                  slot_,         "--publication",
                                  publication_,  "--metrics-addr",
                                  "127.0.0.1:0", "--reconnect-initial-ms",
                                  "50",          "--reconnect-max-ms",
                                  "200"};
    args.insert(args.end(), more.begin(), more.end());
    auto child = std::make_unique<ChildProcess>(vil_cdc_path(), args);
    const std::regex serving(R"(serving metrics at http://127\.0\.0\.1:(\d+)/metrics)");
    std::smatch match;
    const bool said = wait_until(
        [&] {
          const std::string err = child->err_so_far();
          return std::regex_search(err, match, serving);
        },
        child.get());
    EXPECT_TRUE(said) << child->err_so_far();
    if (said) port_ = std::stoi(match[1].str());
    return child;
  }

  std::map<std::string, double> scrape() const {
    const Reply reply = http_get(port_, "/metrics");
    EXPECT_EQ(reply.status, 200);
    return samples_of(reply.body);
  }

  // Polls the scrape until `sample` has `value`.
  bool wait_for_sample(const ChildProcess& child, const std::string& sample, double value) const {
    return wait_until(
        [&] {
          const auto samples = scrape();
          const auto it = samples.find(sample);
          return it != samples.end() && it->second == value;
        },
        &child);
  }

  TempDir dir_;
  int port_ = 0;
};

TEST_F(CliMetrics, CountsEveryChangePassesPromtoolAndFollowsTheServer) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream("t");
  for (int i = 0; i < 10; ++i) {
    execute(fmt::format("INSERT INTO t SELECT g, 'v' FROM generate_series({}, {}) g", i * 10 + 1,
                        i * 10 + 10));
  }
  execute("UPDATE t SET v = 'w' WHERE id <= 5");
  execute("DELETE FROM t WHERE id > 97");
  execute("SELECT pg_logical_emit_message(true, 'p', 'hello')");
  auto child = start_stream();
  ASSERT_TRUE(wait_for_sample(*child, "vil_cdc_transactions_total", 13)) << child->err_so_far();
  // Caught up: once the position is confirmed, the lag falls to 0, in bytes
  // and in seconds.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = scrape();
        return s.at("vil_cdc_confirmed_lsn") > 0 && s.at("vil_cdc_lag_bytes") == 0 &&
               s.at("vil_cdc_lag_seconds") == 0;
      },
      child.get()))
      << child->err_so_far();
  const auto samples = scrape();
  EXPECT_EQ(samples.at(R"(vil_cdc_changes_total{op="insert"})"), 100);
  EXPECT_EQ(samples.at(R"(vil_cdc_changes_total{op="update"})"), 5);
  EXPECT_EQ(samples.at(R"(vil_cdc_changes_total{op="delete"})"), 3);
  EXPECT_EQ(samples.at(R"(vil_cdc_changes_total{op="message"})"), 1);
  EXPECT_EQ(samples.at(R"(vil_cdc_changes_total{op="truncate"})"), 0);
  EXPECT_EQ(samples.at(R"(vil_cdc_changes_total{op="read"})"), 0);
  EXPECT_EQ(samples.at("vil_cdc_lag_seconds"), 0);
  EXPECT_EQ(samples.at("vil_cdc_connected"), 1);
  EXPECT_EQ(samples.at("vil_cdc_paused"), 0);
  EXPECT_EQ(samples.at("vil_cdc_reconnects_total"), 0);
  EXPECT_GT(samples.at("vil_cdc_received_bytes_total"), 0);
  EXPECT_EQ(samples.at("vil_cdc_confirmed_lsn"), samples.at("vil_cdc_server_wal_lsn"));
  EXPECT_EQ(samples.at(R"(vil_cdc_slot_wal_status{slot=")" + slot_ + R"(",status="reserved"})"), 1);
  // The last commit: the message's transaction, moments ago.
  const double commit = samples.at("vil_cdc_last_commit_timestamp_seconds");
  EXPECT_NEAR(commit, static_cast<double>(std::time(nullptr)), 120);
  EXPECT_EQ(samples.count("vil_cdc_sink_inflight_messages"), 0u) << "no broker sink runs";
  // Nothing here outgrew logical_decoding_work_mem: nothing was streamed.
  EXPECT_EQ(samples.at("vil_cdc_streamed_transactions_open"), 0);
  EXPECT_EQ(samples.at(R"(vil_cdc_streamed_transactions_total{outcome="committed"})"), 0);
  EXPECT_EQ(samples.at(R"(vil_cdc_streamed_transactions_total{outcome="aborted"})"), 0);
  EXPECT_EQ(samples.at("vil_cdc_streamed_spill_bytes_total"), 0);

  // Prometheus' own linter finds nothing to say.
  const Reply reply = http_get(port_, "/metrics");
  write_text_file(dir_ / "scrape.txt", reply.body);
  const ProcessResult lint = run_process(
      "/bin/sh", {"-c", fmt::format("promtool check metrics < {}", (dir_ / "scrape.txt").string())},
      kRunDeadline);
  EXPECT_TRUE(lint.exited(0)) << lint.describe() << reply.body;
  EXPECT_EQ(lint.out + lint.err, "") << reply.body;

  const Reply healthy = http_get(port_, "/healthz");
  EXPECT_EQ(healthy.status, 200);
  EXPECT_EQ(healthy.body, "ok\n");

  // The server goes away: not healthy, not connected; back: both again.
  cluster().stop(StopMode::Immediate);
  ASSERT_TRUE(wait_until([&] { return http_get(port_, "/healthz").status == 503; }, child.get()));
  const Reply down = http_get(port_, "/healthz");
  EXPECT_EQ(down.body,
            fmt::format("not streaming from slot \"{}\": connecting or reconnecting to the "
                        "server\n",
                        slot_));
  EXPECT_EQ(scrape().at("vil_cdc_connected"), 0);
  cluster().start_again();
  ASSERT_TRUE(wait_until([&] { return http_get(port_, "/healthz").status == 200; }, child.get()))
      << child->err_so_far();
  EXPECT_EQ(scrape().at("vil_cdc_connected"), 1);
  EXPECT_GE(scrape().at("vil_cdc_reconnects_total"), 1);
  execute("INSERT INTO t VALUES (1000, 'after')");
  ASSERT_TRUE(wait_for_sample(*child, R"(vil_cdc_changes_total{op="insert"})", 101))
      << child->err_so_far();

  child->send_signal(SIGTERM);
  const ProcessResult r = child->wait(kRunDeadline);
  EXPECT_TRUE(r.exited(0)) << r.describe();
}

TEST_F(CliMetrics, APrometheusServerScrapesIt) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream("t");
  execute("INSERT INTO t SELECT generate_series(1, 42)");
  auto child = start_stream();
  ASSERT_NE(port_, 0);
  const int prometheus_port = free_port();
  write_text_file(dir_ / "prometheus.yml", fmt::format("global:\n"
                                                       "  scrape_interval: 1s\n"
                                                       "scrape_configs:\n"
                                                       "  - job_name: vil_cdc\n"
                                                       "    static_configs:\n"
                                                       "      - targets: ['127.0.0.1:{}']\n",
                                                       port_));
  ChildProcess prometheus("/usr/bin/prometheus",
                          {"--config.file=" + (dir_ / "prometheus.yml").string(),
                           "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
                           fmt::format("--web.listen-address=127.0.0.1:{}", prometheus_port)});
  // Its query API, until the job's sample is there with the rows written.
  const std::string query =
      "/api/v1/query?query=vil_cdc_changes_total%7Bjob%3D%22vil_cdc%22%2Cop%3D%22insert%22%7D";
  Json answer;
  const bool scraped = wait_until(
      [&] {
        const Reply reply = http_get(prometheus_port, query);
        if (reply.status != 200) return false;
        answer = Json::parse(reply.body, nullptr, false);
        const Json& result = answer["data"]["result"];
        return result.is_array() && result.size() == 1 && result[0]["value"][1] == "42";
      },
      &prometheus);
  EXPECT_TRUE(scraped) << answer.dump() << prometheus.err_so_far();
  if (scraped) {
    const Json& metric = answer["data"]["result"][0]["metric"];
    EXPECT_EQ(metric["job"], "vil_cdc");
    EXPECT_EQ(metric["instance"], fmt::format("127.0.0.1:{}", port_));
    EXPECT_EQ(metric["__name__"], "vil_cdc_changes_total");
  }
  prometheus.send_signal(SIGTERM);
  (void)prometheus.wait(kRunDeadline);
  child->send_signal(SIGTERM);
  EXPECT_TRUE(child->wait(kRunDeadline).exited(0));
}

TEST_F(CliMetrics, ABrokerSinksWindowAndHowLongItHeldTheStreamBack) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream("t");
  execute("INSERT INTO t SELECT generate_series(1, 20)");
  // A receiver that refuses (503, retried) until told otherwise.
  std::atomic<int> answer{503};
  std::atomic<int> rows_taken{0};
  httplib::Server receiver;
  receiver.Post("/ingest", [&](const httplib::Request& request, httplib::Response& response) {
    response.status = answer.load();
    if (response.status == 204) rows_taken += static_cast<int>(lines_of(request.body).size());
  });
  const int receiver_port = receiver.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { receiver.listen_after_bind(); });
  struct StopReceiver {
    httplib::Server& server;
    std::thread& thread;
    ~StopReceiver() {
      server.stop();
      thread.join();
    }
  } stop_receiver{receiver, serving};
  write_text_file(dir_ / "small_window.yaml", "cdc:\n  max_in_flight: 5\n");
  auto child = start_stream({"--config", (dir_ / "small_window.yaml").string(), "--sink", "http",
                             "--http-url", fmt::format("http://127.0.0.1:{}/ingest", receiver_port),
                             "--health-max-backpressure-ms", "300"});
  // Five changes fill the window, none acknowledged: the stream is held
  // back, and past the limit the health check says so.
  ASSERT_TRUE(wait_until(
      [&] { return http_get(port_, "/healthz").body.starts_with("the destination has held"); },
      child.get()))
      << child->err_so_far();
  const Reply held = http_get(port_, "/healthz");

  EXPECT_TRUE(held.body.starts_with("the destination has held the stream back for ")) << held.body;
  EXPECT_TRUE(held.body.ends_with(" s (limit 0.3 s): its in-flight window is full\n")) << held.body;
  auto samples = scrape();
  EXPECT_EQ(samples.at("vil_cdc_sink_inflight_messages"), 5);
  EXPECT_EQ(samples.at("vil_cdc_sink_acknowledged_messages_total"), 0);
  EXPECT_EQ(samples.at("vil_cdc_sink_failures_total"), 0);
  EXPECT_GT(samples.at("vil_cdc_sink_backpressure_seconds"), 0.3);
  EXPECT_EQ(samples.at("vil_cdc_connected"), 1);

  answer = 204;
  ASSERT_TRUE(wait_for_sample(*child, "vil_cdc_sink_acknowledged_messages_total", 20))
      << child->err_so_far() << http_get(port_, "/metrics").body << rows_taken.load();
  samples = scrape();
  EXPECT_EQ(samples.at("vil_cdc_sink_inflight_messages"), 0);
  EXPECT_EQ(samples.at("vil_cdc_sink_backpressure_seconds"), 0);
  EXPECT_EQ(samples.at(R"(vil_cdc_changes_total{op="insert"})"), 20);
  EXPECT_EQ(http_get(port_, "/healthz").status, 200);
  EXPECT_EQ(rows_taken.load(), 20);
  child->send_signal(SIGTERM);
  EXPECT_TRUE(child->wait(kRunDeadline).exited(0));
}

TEST_F(CliMetrics, AnAddressItCannotUseExits2) {
  make_stream();
  expect_one_line_error(run_vil_cdc(stream_args({"--metrics-addr", "localhost"})), 2,
                        {"--metrics-addr: 'localhost' is not HOST:PORT"});
  expect_one_line_error(run_vil_cdc(stream_args({"--metrics-addr", "127.0.0.1:70000"})), 2,
                        {"--metrics-addr: '127.0.0.1:70000' is not HOST:PORT"});
  // Taken by someone else.
  const LoopbackPort taken(true);
  expect_one_line_error(
      run_vil_cdc(stream_args({"--metrics-addr", fmt::format("127.0.0.1:{}", taken.port())})), 2,
      {fmt::format("--metrics-addr: cannot listen on 127.0.0.1:{}: Address already in use",
                   taken.port())});
}

// A cluster that keeps at most 1 MB of WAL for a slot: a slot left behind is
// invalidated at the next checkpoint.
class CliSlotLost : public CliTest {
 public:
  static void SetUpTestSuite() {
    use_cluster({.settings = {{"max_slot_wal_keep_size", "1MB"},
                              {"min_wal_size", "32MB"},
                              {"max_wal_size", "64MB"}}});
  }
};

TEST_F(CliSlotLost, AnInvalidatedSlotExits4SayingANewOneIsNeeded) {
  execute("CREATE TABLE t (id int, pad text)");
  make_stream("t");
  // More than a segment past the slot, several times over; then the
  // checkpoint that removes it.
  for (int i = 0; i < 4; ++i) {
    execute("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g");
    execute("SELECT pg_switch_wal()");
  }
  execute("CHECKPOINT");
  ASSERT_EQ(query_value(fmt::format(
                "SELECT wal_status FROM pg_replication_slots WHERE slot_name = '{}'", slot_)),
            "lost");
  const ProcessResult r = run_vil_cdc(stream_args());
  EXPECT_TRUE(r.exited(4)) << r.describe();
  EXPECT_EQ(r.out, "");
  // The view's own words: invalidation_reason from PostgreSQL 17 on, before
  // it wal_status alone.
  const std::string why = server_major() >= 17 ? "invalidation_reason wal_removed"
                                               : "wal_status lost: the WAL it needs was removed";
  EXPECT_NE(
      r.err.find(fmt::format("replication slot \"{}\" can no longer be used: {}; ", slot_, why)),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("create a new slot with a snapshot (--create-slot --snapshot initial)"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace vil::testing::cli
