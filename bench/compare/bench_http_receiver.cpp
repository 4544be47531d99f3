// bench_http_receiver: a webhook for the benchmark's HTTP sink runs: takes
// every POST to /ingest with 204, as fast as cpp-httplib lets it. Prints its
// URL on one line, then serves until SIGTERM; at the end prints
// {"requests":N,"bytes":B}.

#include <httplib.h>

#include <unistd.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

namespace {

volatile std::sig_atomic_t stop = 0;

void on_signal(int /*sig*/) {
  stop = 1;
}

}  // namespace

int main() {
  httplib::Server server;
  std::atomic<unsigned long long> requests{0};
  std::atomic<unsigned long long> bytes{0};
  server.Post("/ingest", [&](const httplib::Request& request, httplib::Response& response) {
    ++requests;
    bytes += request.body.size();
    response.status = 204;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::printf("http://127.0.0.1:%d/ingest\n", port);
  std::fflush(stdout);
  std::thread serving([&] { server.listen_after_bind(); });
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  while (stop == 0) pause();
  server.stop();
  serving.join();
  std::printf("{\"requests\":%llu,\"bytes\":%llu}\n", requests.load(), bytes.load());
  return 0;
}
