// `vil-cdc stream --sink http` against a receiver in the test (cpp-httplib):
// one POST per transaction with its exact lines and an Idempotency-Key of its
// first and last keys, confirmed only on a 2xx; 503s retried with the same
// key; a refusal ends the run with exit 5 naming the status; a receiver that
// is not there is exit 3; a password in the URL is never shown.

#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {
namespace {

// An HTTP receiver on a free port of 127.0.0.1: records every POST and
// answers as scripted (2xx once the script is used up).
class Receiver {
 public:
  struct Request {
    std::string body;
    std::string content_type;
    std::string key;
  };

  // On `port`, or a free one.
  explicit Receiver(int port = 0) {
    server_.Post("/ingest", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard lock(mutex_);
      requests_.push_back(Request{request.body, request.get_header_value("Content-Type"),
                                  request.get_header_value("Idempotency-Key")});
      if (!script_.empty()) {
        response.status = script_.front().first;
        response.set_content(script_.front().second, "text/plain");
        script_.erase(script_.begin());
      } else {
        response.status = 204;
      }
    });
    if (port == 0) {
      port_ = server_.bind_to_any_port("127.0.0.1");
    } else if (server_.bind_to_port("127.0.0.1", port)) {
      port_ = port;
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  int port() const { return port_; }
  std::string url() const { return fmt::format("http://127.0.0.1:{}/ingest", port_); }
  void answer(int status, const std::string& body, int times = 1) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < times; ++i) script_.emplace_back(status, body);
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::vector<std::pair<int, std::string>> script_;
};

class CliHttpSink : public CliTest {
 protected:
  std::vector<std::string> http_args(const std::string& url,
                                     std::initializer_list<std::string> more) {
    std::vector<std::string> args =
        stream_args({"--sink", "http", "--http-url", url, "--reconnect-initial-ms", "20"});
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
};

// "commit_lsn:seq" of a JSON line.
std::string key_of(const Json& line) {
  return fmt::format("{}:{}", line["commit_lsn"].get<std::string>(), line["seq"].get<int>());
}

TEST_F(CliHttpSink, PostsEachTransactionAsOneBatchAndConfirmsOnA2xx) {
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream("t");
  // Many rows: the delivery thread finds its queue empty in the middle of
  // the transaction, and its flush must not cut the batch there.
  execute("INSERT INTO t SELECT g, 'r' || g FROM generate_series(1, 2000) g");
  execute("INSERT INTO t VALUES (3000, 'c')");
  const std::string end = current_wal_lsn();
  Receiver receiver;
  const ProcessResult r = run_vil_cdc(http_args(receiver.url(), {"--end-lsn", end}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  EXPECT_EQ(r.out, "");
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  const auto first = parse_lines(requests[0].body);
  const auto second = parse_lines(requests[1].body);
  ASSERT_EQ(first.size(), 2000u);
  ASSERT_EQ(second.size(), 1u) << requests[1].body;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(first[i]["after"], Json::parse(fmt::format(R"({{"id":{0},"v":"r{0}"}})", i + 1)));
  }
  EXPECT_EQ(second[0]["after"], Json::parse(R"({"id":3000,"v":"c"})"));
  for (const auto& request : requests) EXPECT_EQ(request.content_type, "application/x-ndjson");
  EXPECT_EQ(requests[0].key, key_of(first[0]) + "-" + key_of(first[1999]));
  EXPECT_EQ(requests[1].key, key_of(second[0]) + "-" + key_of(second[0]));
  EXPECT_GE(confirmed_flush_lsn(slot_), lsn_value(second[0]["commit_lsn"].get<std::string>()));
}

TEST_F(CliHttpSink, A503IsRetriedWithTheSameBatchAndKey) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream("t");
  execute("INSERT INTO t VALUES (1)");
  const std::string end = current_wal_lsn();
  Receiver receiver;
  receiver.answer(503, "busy", 2);
  const ProcessResult r = run_vil_cdc(http_args(receiver.url(), {"--end-lsn", end}));
  ASSERT_TRUE(r.exited(0)) << r.describe();
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& request : requests) {
    EXPECT_EQ(request.body, requests[0].body);
    EXPECT_EQ(request.key, requests[0].key);
  }
  EXPECT_EQ(parse_lines(requests[2].body).size(), 1u);
}

TEST_F(CliHttpSink, ARefusalEndsTheRunWithItsStatusAndConfirmsNothingOfIt) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream("t");
  const uint64_t before = lsn_value(current_wal_lsn());
  execute("INSERT INTO t VALUES (1)");
  const std::string end = current_wal_lsn();
  Receiver receiver;
  receiver.answer(400, "bad payload\nsecond line");
  const ProcessResult r = run_vil_cdc(http_args(receiver.url(), {"--end-lsn", end}));
  expect_one_line_error(r, 5, {"to " + receiver.url() + " failed: HTTP 400: bad payload"});
  EXPECT_EQ(r.err.find("second line"), std::string::npos);
  const uint64_t confirmed = confirmed_flush_lsn(slot_);
  EXPECT_GE(confirmed, before);
  EXPECT_LT(confirmed, lsn_value(end)) << "the refused transaction comes again";
}

TEST_F(CliHttpSink, AReceiverThatGoesAwayHoldsConfirmationUntilItIsBack) {
  execute("CREATE TABLE t (id int PRIMARY KEY)");
  make_stream("t");
  auto receiver = std::make_unique<Receiver>();
  const std::string url = receiver->url();
  const int port = receiver->port();
  ChildProcess child(vil_cdc_path(), http_args(url, {"--status-interval-ms", "100"}));
  const auto ids_of = [](const Receiver& r, std::map<int, int>& ids) {
    for (const auto& request : r.requests()) {
      for (const Json& line : parse_lines(request.body)) ++ids[line["after"]["id"].get<int>()];
    }
  };
  for (int i = 1; i <= 50; ++i) execute(fmt::format("INSERT INTO t VALUES ({})", i));
  ASSERT_TRUE(wait_until([&] { return receiver->requests().size() == 50; }, &child))
      << child.wait(1ms).describe();
  std::map<int, int> ids;
  ids_of(*receiver, ids);
  receiver.reset();  // gone: connections refused

  for (int i = 51; i <= 100; ++i) execute(fmt::format("INSERT INTO t VALUES ({})", i));
  // More than the 10,000 changes allowed in flight: the rest waits in the
  // server, and memory stays bounded.
  execute("INSERT INTO t SELECT g FROM generate_series(101, 20100) g");
  const std::string written = current_wal_lsn();
  std::this_thread::sleep_for(1500ms);
  EXPECT_LT(confirmed_flush_lsn(slot_), lsn_value(written) - 64)
      << "nothing the receiver did not take is confirmed";
  EXPECT_FALSE(child.finished()) << child.wait(1ms).describe();
  const uint64_t rss_kb = resident_kb(child.pid());
  EXPECT_GT(rss_kb, 0u);
  EXPECT_LT(rss_kb, 128u * 1024) << "kB resident while the receiver is away";

  Receiver back(port);
  ASSERT_EQ(back.port(), port);
  ASSERT_TRUE(
      wait_until([&] { return confirmed_flush_lsn(slot_) >= lsn_value(written) - 64; }, &child))
      << child.wait(1ms).describe();
  child.send_signal(SIGTERM);
  const ProcessResult r = child.wait(kRunDeadline);
  ASSERT_TRUE(r.exited(0)) << r.describe();
  ids_of(back, ids);
  ASSERT_EQ(ids.size(), 20100u);
  for (const auto& [id, times] : ids) EXPECT_EQ(times, 1) << "row " << id;
}

// 12 kills of vil-cdc while a writer commits 4,000 transactions, each time
// the same command again: every row at least once; a batch that comes again
// has the same key and body.
TEST_F(CliHttpSink, TwelveKillsDuring4000TransactionsLoseNothing) {
  constexpr int kTransactions = 4000;
  execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
  make_stream("t");
  Receiver receiver;
  BackgroundWriter writer(
      conninfo(), kTransactions,
      [](int i) { return fmt::format("INSERT INTO t VALUES ({0}, 'row {0}')", i); }, 1ms);
  kill_repeatedly(http_args(receiver.url(), {"--status-interval-ms", "50"}), 12, 54321);
  const int written_during_kills = writer.written();
  ASSERT_TRUE(writer.join());
  EXPECT_LT(written_during_kills, kTransactions) << "the kills came after the writer ended";
  const ProcessResult last =
      run_vil_cdc(http_args(receiver.url(), {"--end-lsn", current_wal_lsn()}), 120s);
  ASSERT_TRUE(last.exited(0)) << last.describe();

  std::map<int, int> ids;
  std::map<std::string, std::string> bodies;  // Idempotency-Key -> body
  size_t duplicates = 0;
  for (const auto& request : receiver.requests()) {
    const auto lines = parse_lines(request.body);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(request.key, key_of(lines.front()) + "-" + key_of(lines.back()));
    const auto [known, added] = bodies.emplace(request.key, request.body);
    if (!added) {
      EXPECT_EQ(known->second, request.body) << "a batch that comes again is the same batch";
      ++duplicates;
    }
    for (const Json& line : lines) ++ids[line["after"]["id"].get<int>()];
  }
  ASSERT_EQ(ids.size(), static_cast<size_t>(kTransactions));
  EXPECT_EQ(ids.begin()->first, 1);
  EXPECT_EQ(ids.rbegin()->first, kTransactions);
  std::printf("http kill loop: %zu batches, %zu again\n", receiver.requests().size(), duplicates);
}

TEST_F(CliHttpSink, AReceiverThatIsNotThereIsExitThreeAndAPasswordIsNeverShown) {
  make_stream();
  const ProcessResult r = run_vil_cdc(http_args("http://user:s3cret-pass@127.0.0.1:1/ingest", {}));
  expect_one_line_error(r, 3, {"cannot reach http://user:********@127.0.0.1:1/ingest"});
  EXPECT_EQ(r.err.find("s3cret-pass"), std::string::npos);

  expect_one_line_error(run_vil_cdc(stream_args({"--sink", "kafka2"})), 2,
                        {"--sink: 'kafka2' is not one of file, http, kafka, nats"});
  expect_one_line_error(run_vil_cdc(stream_args({"--sink", "http"})), 2,
                        {"--sink http needs --http-url"});
  expect_one_line_error(
      run_vil_cdc(stream_args({"--sink", "http", "--http-url", "http://x/", "--max-events", "1"})),
      2, {"the file sink's options"});
}

}  // namespace
}  // namespace vil::testing::cli
