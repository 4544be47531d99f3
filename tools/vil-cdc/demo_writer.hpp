#pragma once
// The demo's writer: a thread with its own connection that keeps a small shop
// busy (new customers and orders, payments, shipments, cancellations, a
// logical message now and then) until stopped.

#include <atomic>
#include <string>
#include <thread>

namespace vil::cli {

class DemoWriter {
 public:
  DemoWriter(std::string conninfo, double transactions_per_second);
  ~DemoWriter();  // stop()
  void stop();
  uint64_t transactions() const { return transactions_.load(); }

 private:
  void run();

  std::string conninfo_;
  double rate_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> transactions_{0};
  std::thread thread_;
};

// The schema the writer works on.
extern const char* const kDemoSchema;

}  // namespace vil::cli
