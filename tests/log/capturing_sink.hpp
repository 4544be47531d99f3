#pragma once
// A sink that keeps what the drain gives it, for the ring and logger tests.
// Read it only after the drain has stopped (shutdown() joins the thread).

#include <vector>

#include "vil/log/sink.hpp"

namespace vil::log::test {

class CapturingSink final : public Sink {
 public:
  explicit CapturingSink(std::vector<LogSlot>& into) : into_(&into) {}
  void write(const LogSlot& slot) override { into_->push_back(slot); }

 private:
  std::vector<LogSlot>* into_;
};

}  // namespace vil::log::test
