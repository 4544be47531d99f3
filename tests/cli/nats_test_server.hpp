// A NATS server for tests: Debian's nats-server with JetStream, started on a
// free port of 127.0.0.1 with a store folder of its own, stopped and started
// again on the same port and folder (what it stored stays), and a nats.c
// client that reads a stream back message by message.
//
//   NatsTestServer server;                 // started; throws when it cannot be
//   run vil-cdc with --nats-url server.url() ...
//   NatsTestClient client(server.url());
//   for (const StoredMessage& m : client.messages("S")) ...
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nats/nats.h>

#include "cli/child_process.hpp"
#include "cli/cli_test_support.hpp"

namespace vil::testing::cli {

struct NatsServerOptions {
  std::string user;  // with password: connections must log in
  std::string password;
  std::string config_text;  // written to a file given with -c (e.g. "max_payload: 1024")
};

class NatsTestServer {
 public:
  explicit NatsTestServer(NatsServerOptions options = {});
  ~NatsTestServer();
  NatsTestServer(const NatsTestServer&) = delete;
  NatsTestServer& operator=(const NatsTestServer&) = delete;

  // nats://127.0.0.1:PORT (without the login).
  std::string url() const;
  int port() const { return port_; }
  // Stops it (SIGTERM, waits for its end) / starts it again, same port and
  // store; start() returns once it is ready for clients.
  void stop();
  void start();
  bool running() const { return process_ != nullptr; }
  // Where nats-server is (PATH, then /usr/sbin); empty when not installed.
  static std::string binary();

 private:
  NatsServerOptions options_;
  TempDir dir_{"vil-nats-"};
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// One message of a stream, as JetStream stored it.
struct StoredMessage {
  uint64_t sequence = 0;
  std::string subject;
  std::string id;  // its Nats-Msg-Id header
  std::string data;
};

// A nats.c connection with JetStream, for a test's own look at the server.
class NatsTestClient {
 public:
  explicit NatsTestClient(const std::string& url);
  ~NatsTestClient();
  NatsTestClient(const NatsTestClient&) = delete;
  NatsTestClient& operator=(const NatsTestClient&) = delete;

  // The stream's subjects, or nullopt when there is no such stream.
  std::optional<std::vector<std::string>> stream_subjects(const std::string& stream);
  bool stream_file_storage(const std::string& stream);
  uint64_t message_count(const std::string& stream);
  void create_stream(const std::string& stream, const std::vector<std::string>& subjects);
  void delete_stream(const std::string& stream);
  void publish(const std::string& subject, const std::string& data, const std::string& id);
  // Every message of the stream, by sequence.
  std::vector<StoredMessage> messages(const std::string& stream);

 private:
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace vil::testing::cli
