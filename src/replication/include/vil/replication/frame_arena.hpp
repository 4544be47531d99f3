#pragma once
// Where queued XLogData payloads live between the I/O thread and the
// delivery thread: large blocks that the I/O thread copies each payload
// into. libpq hands out every frame in a buffer of its own; freed on the
// delivery thread, that cost more than decoding (malloc's slow path on both
// sides, per frame). Copied here, libpq's buffer is freed at once on the
// thread that allocated it, and the delivery thread frees nothing per frame:
// it hands back a whole block once it has delivered every frame in it.
//
// Frames are delivered in the order they were stored, and a block is filled
// before the next is begun, so delivery is done with a block when it reaches
// a frame of another one.

#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace vil::replication {

class FrameArena {
 public:
  struct Block;

  FrameArena();
  ~FrameArena();
  FrameArena(const FrameArena&) = delete;
  FrameArena& operator=(const FrameArena&) = delete;

  // I/O side: a copy of `bytes`, valid until `block` (set here) is released.
  std::span<const std::byte> store(std::span<const std::byte> bytes, Block*& block);
  // Delivery side: every frame stored in `block` was delivered.
  void release(Block* block);

 private:
  Block* new_block(size_t at_least);

  std::mutex mutex_;
  std::vector<std::unique_ptr<Block>> blocks_;  // every block, for the destructor
  std::vector<Block*> free_;                    // released blocks of the usual size
  Block* filling_ = nullptr;                    // the I/O thread's
};

}  // namespace vil::replication
