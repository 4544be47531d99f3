#include "vil/replication/frame_arena.hpp"

#include <algorithm>
#include <cstring>

namespace vil::replication {

namespace {

// Large against a frame (a few hundred bytes for a row), small against the
// queue's bound, so memory stays flat.
constexpr size_t kBlockBytes = 256u << 10;

}  // namespace

struct FrameArena::Block {
  explicit Block(size_t size) : bytes(new std::byte[size]), capacity(size) {}
  std::unique_ptr<std::byte[]> bytes;
  size_t capacity;
  size_t used = 0;
};

FrameArena::FrameArena() = default;
FrameArena::~FrameArena() = default;

FrameArena::Block* FrameArena::new_block(size_t at_least) {
  std::lock_guard lock(mutex_);
  if (at_least <= kBlockBytes && !free_.empty()) {
    Block* block = free_.back();
    free_.pop_back();
    block->used = 0;
    return block;
  }
  // A payload larger than a block gets one of its own size, full at once.
  blocks_.push_back(std::make_unique<Block>(std::max(at_least, kBlockBytes)));
  return blocks_.back().get();
}

std::span<const std::byte> FrameArena::store(std::span<const std::byte> bytes, Block*& block) {
  if (filling_ == nullptr || filling_->capacity - filling_->used < bytes.size()) {
    filling_ = new_block(bytes.size());
  }
  std::byte* at = filling_->bytes.get() + filling_->used;
  if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
  filling_->used += bytes.size();
  block = filling_;
  return {at, bytes.size()};
}

void FrameArena::release(Block* block) {
  std::lock_guard lock(mutex_);
  if (block->capacity == kBlockBytes) {
    free_.push_back(block);
    return;
  }
  std::erase_if(blocks_, [&](const std::unique_ptr<Block>& b) { return b.get() == block; });
}

}  // namespace vil::replication
