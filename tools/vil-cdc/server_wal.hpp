#pragma once
// The server's current end of WAL, for the progress line's lag: a thread of
// its own polls `pg_current_wal_lsn()` about once a second over an ordinary
// (not replication) libpq connection, off the stream's hot path. The
// positions a walsender puts in its frames and keepalives are what it has
// *sent*, which stays close to what was confirmed while the server's WAL runs
// ahead of both; only the server itself can say how far behind the slot is.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace vil::cli {

class ServerWal {
 public:
  explicit ServerWal(std::string conn_string);
  ~ServerWal();  // closes the connection, joins the thread
  ServerWal(const ServerWal&) = delete;
  ServerWal& operator=(const ServerWal&) = delete;

  // The last position the server answered, or 0 (not known yet, or the
  // connection failed: a role may be allowed replication connections only).
  uint64_t current() const { return lsn_.load(std::memory_order_relaxed); }

 private:
  void run();
  // Waits until the deadline or stop(); false on stop.
  bool sleep_for(std::chrono::milliseconds ms);

  std::string conn_string_;
  std::atomic<uint64_t> lsn_{0};
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace vil::cli
