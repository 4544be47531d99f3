#include "cli/kafka_cluster.hpp"

#include <librdkafka/rdkafka.h>
// The mock cluster's header needs rdkafka.h first.
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

namespace vil::testing::cli {

namespace {

rd_kafka_t* new_client(rd_kafka_type_t type,
                       const std::vector<std::pair<std::string, std::string>>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::array<char, 512> error{};
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(fmt::format("kafka property {}: {}", name, error.data()));
    }
  }
  rd_kafka_t* client = rd_kafka_new(type, conf, error.data(), error.size());
  if (client == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(fmt::format("rd_kafka_new: {}", error.data()));
  }
  return client;
}

}  // namespace

KafkaCluster::KafkaCluster(int brokers) {
  handle_ = new_client(RD_KAFKA_PRODUCER, {{"log_level", "0"}});
  cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
  if (cluster_ == nullptr) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
}

KafkaCluster::~KafkaCluster() {
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(handle_);
}

std::string KafkaCluster::bootstraps() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_);
}

void KafkaCluster::create_topic(const std::string& topic, int partitions) const {
  if (rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("rd_kafka_mock_topic_create " + topic);
  }
}

void KafkaCluster::set_down(int id) const {
  rd_kafka_mock_broker_set_down(cluster_, id);
}

void KafkaCluster::set_up(int id) const {
  rd_kafka_mock_broker_set_up(cluster_, id);
}

std::vector<std::string> KafkaCluster::topics(const std::string& prefix) const {
  rd_kafka_t* client = new_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstraps()}});
  const rd_kafka_metadata_t* metadata = nullptr;
  std::vector<std::string> names;
  if (rd_kafka_metadata(client, 1, nullptr, &metadata, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      const std::string name = metadata->topics[i].topic;
      if (name.starts_with(prefix)) names.push_back(name);
    }
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_destroy(client);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<KafkaRecord> KafkaCluster::read_topic(const std::string& topic) const {
  rd_kafka_t* consumer = new_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstraps()},
                                                        {"group.id", "vil-test-reader"},
                                                        {"enable.auto.commit", "false"}});
  std::vector<KafkaRecord> records;
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_t* handle = rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
  int partitions = 0;
  if (rd_kafka_metadata(consumer, 0, handle, &metadata, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      partitions = metadata->topics[0].partition_cnt;
    }
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_topic_destroy(handle);
  for (int32_t partition = 0; partition < partitions; ++partition) {
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(consumer, topic.c_str(), partition, &low, &high, 10'000) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high <= low) {
      continue;
    }
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset = low;
    rd_kafka_assign(consumer, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    int64_t next = low;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (next < high && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 100);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        KafkaRecord record;
        record.partition = message->partition;
        record.offset = message->offset;
        if (message->key != nullptr) {
          record.key.emplace(static_cast<const char*>(message->key), message->key_len);
        }
        if (message->payload != nullptr) {
          record.value.emplace(static_cast<const char*>(message->payload), message->len);
        }
        rd_kafka_headers_t* headers = nullptr;
        if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          const char* name = nullptr;
          const void* value = nullptr;
          size_t size = 0;
          for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                             RD_KAFKA_RESP_ERR_NO_ERROR;
               ++i) {
            record.headers[name] = std::string(static_cast<const char*>(value), size);
          }
        }
        next = message->offset + 1;
        records.push_back(std::move(record));
      }
      rd_kafka_message_destroy(message);
    }
    rd_kafka_assign(consumer, nullptr);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return records;
}

}  // namespace vil::testing::cli
