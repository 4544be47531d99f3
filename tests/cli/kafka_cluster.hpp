#pragma once
// A Kafka cluster for the tests: librdkafka's own mock cluster (a broker
// implementation speaking the real protocol on local ports; no Kafka broker
// is packaged for Debian), living in the test process while vil-cdc, a child
// process, produces to it; and a consumer that reads a topic back whole.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace vil::testing::cli {

struct KafkaRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;    // nullopt: a null key
  std::optional<std::string> value;  // nullopt: a null value (a tombstone)
  std::map<std::string, std::string> headers;
};

class KafkaCluster {
 public:
  explicit KafkaCluster(int brokers = 1);
  ~KafkaCluster();
  KafkaCluster(const KafkaCluster&) = delete;
  KafkaCluster& operator=(const KafkaCluster&) = delete;

  // bootstrap.servers for the cluster: "127.0.0.1:PORT,...".
  [[nodiscard]] std::string bootstraps() const;
  // Makes a topic with this many partitions (else the first producer's
  // request makes it with the cluster's default).
  void create_topic(const std::string& topic, int partitions) const;
  // Broker `id` (from 1) drops its connections and refuses new ones / takes
  // them again.
  void set_down(int id) const;
  void set_up(int id) const;

  // Every record of `topic` now, partition by partition in offset order; no
  // record when the topic does not exist. The mock cluster keeps only the
  // last few megabytes of each partition: tests stay well below.
  [[nodiscard]] std::vector<KafkaRecord> read_topic(const std::string& topic) const;
  // The topics whose names start with `prefix`.
  [[nodiscard]] std::vector<std::string> topics(const std::string& prefix) const;

 private:
  rd_kafka_s* handle_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
};

}  // namespace vil::testing::cli
