// bench_kafka_mock: librdkafka's mock cluster as a process of its own, for the
// benchmark's Kafka sink runs (no Kafka broker is packaged for Debian).
// Prints its bootstrap servers on one line, then serves until SIGTERM.
//
//   bench_kafka_mock [--brokers N] [--partitions N] [--topic T ...]
//
// --topic makes a topic with --partitions partitions ahead of the run (others
// are made on first use, with the mock cluster's default).

#include <librdkafka/rdkafka.h>
// The mock cluster's header needs rdkafka.h first.
#include <librdkafka/rdkafka_mock.h>

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

namespace {

volatile std::sig_atomic_t stop = 0;

void on_signal(int /*sig*/) {
  stop = 1;
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  int partitions = 1;
  std::vector<std::string> topics;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--brokers") {
      brokers = std::stoi(argv[i + 1]);
    } else if (flag == "--partitions") {
      partitions = std::stoi(argv[i + 1]);
    } else if (flag == "--topic") {
      topics.emplace_back(argv[i + 1]);
    } else {
      std::fprintf(stderr, "bench_kafka_mock: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof error);
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (handle == nullptr) {
    std::fprintf(stderr, "bench_kafka_mock: %s\n", error);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(handle, brokers);
  if (cluster == nullptr) {
    std::fprintf(stderr, "bench_kafka_mock: no mock cluster\n");
    return 1;
  }
  for (const std::string& topic : topics) {
    rd_kafka_mock_topic_create(cluster, topic.c_str(), partitions, 1);
  }
  std::printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  while (stop == 0) pause();
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(handle);
  return 0;
}
