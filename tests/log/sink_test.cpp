#include "vil/log/sink.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "log/sample_slots.hpp"

namespace {

using namespace vil::log;
using vil::log::test::kSampleJson;
using vil::log::test::kSamplePretty;
using vil::log::test::sample_mq_slot;

TEST(StreamSink, WritesLinesToAnOstream) {
  std::ostringstream out;
  StreamSink sink(LogFormat::Pretty, out);
  sink.write(sample_mq_slot());
  sink.write(sample_mq_slot());
  sink.flush();
  EXPECT_EQ(out.str(), std::string(kSamplePretty) + kSamplePretty);
}

TEST(StreamSink, WritesLinesToAFile) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  {
    StreamSink sink(LogFormat::Json, file);
    sink.write(sample_mq_slot());
    sink.flush();
  }
  std::rewind(file);
  char buffer[1024] = {};
  const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, file);
  std::fclose(file);
  EXPECT_EQ(std::string(buffer, n), kSampleJson);
}

TEST(JsonFileSink, AppendsJsonLines) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("vil_json_file_sink." + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  for (int run = 0; run < 2; ++run) {
    auto sink = JsonFileSink::open(path);
    ASSERT_TRUE(sink) << sink.error();
    (*sink)->write(sample_mq_slot());
    (*sink)->flush();
  }
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), std::string(kSampleJson) + kSampleJson);
  std::filesystem::remove(path);
}

TEST(JsonFileSink, OpenFailureNamesPathAndCause) {
  const auto sink = JsonFileSink::open("/nonexistent-dir/log.jsonl");
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error(),
            "cannot open log file /nonexistent-dir/log.jsonl: No such file or directory");
}

}  // namespace
