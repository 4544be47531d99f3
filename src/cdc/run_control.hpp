#pragma once
// The control lane of one trigger: pause(), resume() and stop() from any
// thread. It is the one owner of the paused state and of "stop was asked",
// and passes each to the run in progress, if any: the I/O thread stops or
// resumes reading (StreamReader::set_reading) and the delivery thread, which
// asks ask() before each item, is woken wherever it waits on the queue. A
// pause() before start() holds for the run that start() begins.

#include <atomic>
#include <mutex>

#include "vil/replication/frame_queue.hpp"
#include "vil/replication/stream_reader.hpp"

namespace vil::cdc {

class RunControl {
 public:
  // Any thread.
  void pause();
  void resume();
  // Ends the run in progress; with none, does nothing (the next start() runs
  // as usual).
  void stop();
  [[nodiscard]] bool paused() const { return paused_.load(); }

  // The delivery thread, before each item: what the control lane asks now.
  enum class Ask { Deliver, Pause, Stop };
  [[nodiscard]] Ask ask() const {
    if (stop_.load()) return Ask::Stop;
    return paused_.load() ? Ask::Pause : Ask::Deliver;
  }

  // The thread of start(): makes `reader` and `queue` the run that the lane
  // reaches, passing on the paused state under the lane's lock so that no
  // pause() or resume() is lost in between. False when a run is attached
  // already (start() is running on another thread).
  [[nodiscard]] bool attach(replication::StreamReader& reader, replication::FrameQueue& queue);
  // Ends the run's attachment; true when stop() was called during it.
  bool detach();

 private:
  std::mutex mutex_;
  std::atomic<bool> paused_{false};
  std::atomic<bool> stop_{false};  // of the attached run
  replication::StreamReader* reader_ = nullptr;
  replication::FrameQueue* queue_ = nullptr;
};

}  // namespace vil::cdc
