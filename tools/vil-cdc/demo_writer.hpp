#pragma once
// The demo's writer: a thread with its own connection that keeps a small shop
// busy (new customers and orders, payments, shipments, cancellations, a
// logical message now and then) until stopped.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace vil::cli {

class DemoWriter {
 public:
  DemoWriter(std::string conninfo, double transactions_per_second);
  ~DemoWriter();  // stop()
  // Returns once the thread has ended: at once between transactions, even at
  // a slow rate; after the statement in flight otherwise.
  void stop();
  uint64_t transactions() const { return transactions_.load(); }

 private:
  void run();
  // Waits `wait`, or less if stop() comes; false when it came.
  bool pause_for(std::chrono::nanoseconds wait);
  bool stopping();

  std::string conninfo_;
  double rate_;
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::atomic<uint64_t> transactions_{0};
  std::thread thread_;
};

// The schema the writer works on.
extern const char* const kDemoSchema;

}  // namespace vil::cli
