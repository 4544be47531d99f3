#include "cli/nats_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace vil::testing::cli {

namespace {

// A port of 127.0.0.1 nobody listens on now.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  if (bind(fd, generic, sizeof(address)) != 0 || getsockname(fd, generic, &length) != 0) {
    close(fd);
    throw std::runtime_error("binding a free port failed");
  }
  close(fd);
  return ntohs(address.sin_port);
}

[[noreturn]] void nats_failed(const char* what, natsStatus status) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  throw std::runtime_error(fmt::format(
      "{}: {}", what, text != nullptr && *text != '\0' ? text : natsStatus_GetText(status)));
}

}  // namespace

std::string NatsTestServer::binary() {
  std::string path_list = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path_list += ":/usr/sbin:/usr/local/sbin";
  size_t from = 0;
  while (from <= path_list.size()) {
    const size_t colon = std::min(path_list.find(':', from), path_list.size());
    const std::filesystem::path candidate =
        std::filesystem::path(path_list.substr(from, colon - from)) / "nats-server";
    if (colon > from && access(candidate.c_str(), X_OK) == 0) return candidate.string();
    from = colon + 1;
  }
  return {};
}

NatsTestServer::NatsTestServer(NatsServerOptions options) : options_(std::move(options)) {
  port_ = free_port();
  start();
}

NatsTestServer::~NatsTestServer() {
  stop();
}

std::string NatsTestServer::url() const {
  return fmt::format("nats://127.0.0.1:{}", port_);
}

void NatsTestServer::start() {
  if (process_) return;
  const std::string program = binary();
  if (program.empty()) throw std::runtime_error("nats-server is not installed");
  std::vector<std::string> args = {
      "-js", "-sd", (dir_ / "store").string(), "-p", std::to_string(port_), "-a", "127.0.0.1"};
  if (!options_.config_text.empty()) {
    write_text_file(dir_ / "server.conf", options_.config_text);
    args.insert(args.end(), {"-c", (dir_ / "server.conf").string()});
  }
  if (!options_.user.empty()) {
    args.insert(args.end(), {"--user", options_.user, "--pass", options_.password});
  }
  process_ = std::make_unique<ChildProcess>(program, args);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (process_->err_so_far().find("Server is ready") == std::string::npos) {
    if (process_->finished() || std::chrono::steady_clock::now() > deadline) {
      const ProcessResult r = process_->wait(std::chrono::seconds(1));
      process_.reset();
      throw std::runtime_error("nats-server did not start: " + r.describe());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void NatsTestServer::stop() {
  if (!process_) return;
  process_->send_signal(SIGTERM);
  (void)process_->wait(std::chrono::seconds(30));
  process_.reset();
}

NatsTestClient::NatsTestClient(const std::string& url) {
  natsStatus s = natsConnection_ConnectTo(&connection_, url.c_str());
  if (s != NATS_OK) nats_failed("connecting to the test's nats-server", s);
  s = natsConnection_JetStream(&js_, connection_, nullptr);
  if (s != NATS_OK) nats_failed("JetStream", s);
}

NatsTestClient::~NatsTestClient() {
  jsCtx_Destroy(js_);
  natsConnection_Destroy(connection_);
}

std::optional<std::vector<std::string>> NatsTestClient::stream_subjects(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &code);
  if (s != NATS_OK && code == JSStreamNotFoundErr) return std::nullopt;
  if (s != NATS_OK) nats_failed("stream info", s);
  std::vector<std::string> subjects;
  if (info->Config != nullptr) {
    for (int i = 0; i < info->Config->SubjectsLen; ++i) {
      subjects.emplace_back(info->Config->Subjects[i]);
    }
  }
  jsStreamInfo_Destroy(info);
  return subjects;
}

bool NatsTestClient::stream_file_storage(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  const natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, nullptr);
  if (s != NATS_OK) nats_failed("stream info", s);
  const bool file = info->Config != nullptr && info->Config->Storage == js_FileStorage;
  jsStreamInfo_Destroy(info);
  return file;
}

uint64_t NatsTestClient::message_count(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &code);
  if (s != NATS_OK) return 0;  // not there (yet)
  const uint64_t count = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return count;
}

void NatsTestClient::create_stream(const std::string& stream,
                                   const std::vector<std::string>& subjects) {
  std::vector<const char*> list;
  list.reserve(subjects.size());
  for (const std::string& subject : subjects) list.push_back(subject.c_str());
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = stream.c_str();
  config.Subjects = list.data();
  config.SubjectsLen = static_cast<int>(list.size());
  config.Storage = js_FileStorage;
  jsStreamInfo* info = nullptr;
  const natsStatus s = js_AddStream(&info, js_, &config, nullptr, nullptr);
  if (s != NATS_OK) nats_failed("creating the stream", s);
  jsStreamInfo_Destroy(info);
}

void NatsTestClient::delete_stream(const std::string& stream) {
  const natsStatus s = js_DeleteStream(js_, stream.c_str(), nullptr, nullptr);
  if (s != NATS_OK) nats_failed("deleting the stream", s);
}

void NatsTestClient::publish(const std::string& subject, const std::string& data,
                             const std::string& id) {
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = id.c_str();
  jsPubAck* ack = nullptr;
  const natsStatus s = js_Publish(&ack, js_, subject.c_str(), data.data(),
                                  static_cast<int>(data.size()), &options, nullptr);
  if (s != NATS_OK) nats_failed("publishing", s);
  jsPubAck_Destroy(ack);
}

std::vector<StoredMessage> NatsTestClient::messages(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, nullptr);
  if (s != NATS_OK) nats_failed("stream info", s);
  const uint64_t first = info->State.FirstSeq;
  const uint64_t last = info->State.LastSeq;
  const uint64_t count = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  std::vector<StoredMessage> out;
  if (count == 0) return out;
  out.reserve(count);
  for (uint64_t seq = first; seq <= last; ++seq) {
    natsMsg* msg = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    s = js_GetMsg(&msg, js_, stream.c_str(), seq, nullptr, &code);
    if (s != NATS_OK) {
      if (code == JSNoMessageFoundErr) continue;  // deleted: a gap
      nats_failed("reading a message back", s);
    }
    StoredMessage m;
    m.sequence = seq;
    m.subject = natsMsg_GetSubject(msg);
    m.data.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    const char* id = nullptr;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) m.id = id;
    natsMsg_Destroy(msg);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace vil::testing::cli
