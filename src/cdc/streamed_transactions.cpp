#include "streamed_transactions.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

#include <fmt/format.h>

namespace vil::cdc {

namespace {

// A record: the message's length, its LSN, then the message.
constexpr size_t kHeaderBytes = sizeof(uint32_t) + sizeof(uint64_t);
// A transaction's first memory, and a spilled one's write buffer: large
// enough that a spill file is written in few calls.
constexpr size_t kFirstBytes = 64u << 10;
constexpr size_t kWriteBufferBytes = 256u << 10;
constexpr size_t kReadChunkBytes = 1u << 20;
// What a spill file is called where it cannot be made without a name, for
// the moment before it is unlinked.
constexpr std::string_view kSpillNamePrefix = "vil-cdc-spill-";

bool write_all(int fd, const std::byte* data, size_t size, uint64_t offset) {
  while (size > 0) {
    const ssize_t n = pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

// Calls `each` on the whole records at the front of `bytes`; the bytes they
// took, or nullopt when `each` asked to stop.
std::optional<size_t> replay_records(std::span<const std::byte> bytes,
                                     const StreamedTransactions::Replay& each) {
  size_t at = 0;
  while (bytes.size() - at >= kHeaderBytes) {
    uint32_t length = 0;
    uint64_t lsn = 0;
    std::memcpy(&length, bytes.data() + at, sizeof length);
    std::memcpy(&lsn, bytes.data() + at + sizeof length, sizeof lsn);
    if (bytes.size() - at - kHeaderBytes < length) break;
    if (!each(lsn, bytes.subspan(at + kHeaderBytes, length))) return std::nullopt;
    at += kHeaderBytes + length;
  }
  return at;
}

}  // namespace

StreamedTransactions::StreamedTransactions(uint64_t memory_limit, std::filesystem::path spill_dir)
    : memory_limit_(memory_limit), spill_dir_(std::move(spill_dir)) {}

StreamedTransactions::~StreamedTransactions() {
  clear();
}

std::string StreamedTransactions::file_error(std::string_view doing, int error) const {
  return fmt::format("{} a spill file in {}: {}", doing, spill_dir_.string(),
                     std::system_category().message(error));
}

std::expected<void, std::string> StreamedTransactions::check_spill_dir() const {
  std::error_code error;
  std::filesystem::create_directories(spill_dir_, error);
  if (error) {
    return std::unexpected(fmt::format("the spill folder {} cannot be made: {}",
                                       spill_dir_.string(), error.message()));
  }
  // A spill file that kept its name: the process that made it ended in the
  // moment before unlinking it. Nobody reads it; its space comes back.
  for (const auto& entry : std::filesystem::directory_iterator(spill_dir_, error)) {
    if (entry.path().filename().string().starts_with(kSpillNamePrefix)) {
      std::filesystem::remove(entry.path(), error);
    }
  }
  auto fd = open_spill_file();
  if (!fd) return std::unexpected(fd.error());
  close(*fd);
  return {};
}

std::expected<int, std::string> StreamedTransactions::open_spill_file() const {
  const int fd = ::open(spill_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    return std::unexpected(file_error("cannot make", errno));
  }
  std::string name = (spill_dir_ / kSpillNamePrefix).string() + "XXXXXX";
  const int named = mkostemp(name.data(), O_CLOEXEC);
  if (named < 0) return std::unexpected(file_error("cannot make", errno));
  unlink(name.c_str());
  return named;
}

std::expected<void, std::string> StreamedTransactions::append(Xid xid, Xid subxid, uint64_t lsn,
                                                              std::byte type,
                                                              std::span<const std::byte> body) {
  Transaction& txn = transactions_[xid];
  if (subxid != txn.last_subxid) {
    const bool known =
        subxid == xid ||
        std::ranges::any_of(txn.subtransactions, [&](const auto& s) { return s.first == subxid; });
    if (!known) txn.subtransactions.emplace_back(subxid, txn.size());
    txn.last_subxid = subxid;
  }
  const size_t record = kHeaderBytes + 1 + body.size();
  if (auto room = make_room(txn, record); !room) return room;
  const auto length = static_cast<uint32_t>(1 + body.size());
  std::byte header[kHeaderBytes];
  std::memcpy(header, &length, sizeof length);
  std::memcpy(header + sizeof length, &lsn, sizeof lsn);
  txn.memory.insert(txn.memory.end(), header, header + kHeaderBytes);
  txn.memory.push_back(type);
  txn.memory.insert(txn.memory.end(), body.begin(), body.end());
  return {};
}

std::expected<void, std::string> StreamedTransactions::make_room(Transaction& txn, size_t more) {
  for (;;) {
    const size_t capacity = txn.memory.capacity();
    if (txn.memory.size() + more <= capacity) return {};
    if (txn.fd >= 0) {
      // Spilled: the memory is a write buffer, emptied into the file.
      if (!txn.memory.empty()) {
        if (auto written = write_out(txn); !written) return written;
        continue;
      }
      const size_t want = std::max(kWriteBufferBytes, more);
      txn.memory.reserve(want);
      memory_bytes_ += txn.memory.capacity() - capacity;
      return {};
    }
    const size_t want = std::max({capacity * 2, txn.memory.size() + more, kFirstBytes});
    if (memory_bytes_ + (want - capacity) <= memory_limit_) {
      txn.memory.reserve(want);
      memory_bytes_ += txn.memory.capacity() - capacity;
      return {};
    }
    // Over the limit: the largest holder in memory goes to its spill file
    // (often this one; it is one of those in memory).
    Transaction* largest = &txn;
    for (auto& [id, other] : transactions_) {
      if (other.fd < 0 && other.memory.capacity() > largest->memory.capacity()) largest = &other;
    }
    if (auto spilled = spill(*largest); !spilled) return spilled;
  }
}

std::expected<void, std::string> StreamedTransactions::spill(Transaction& txn) {
  auto fd = open_spill_file();
  if (!fd) return std::unexpected(fd.error());
  txn.fd = *fd;
  ++spilled_transactions_;
  if (auto written = write_out(txn); !written) return written;
  // Its memory goes back; make_room gives it a write buffer when it grows.
  memory_bytes_ -= txn.memory.capacity();
  std::vector<std::byte>().swap(txn.memory);
  return {};
}

std::expected<void, std::string> StreamedTransactions::write_out(Transaction& txn) {
  if (!write_all(txn.fd, txn.memory.data(), txn.memory.size(), txn.file_bytes)) {
    return std::unexpected(file_error("cannot write", errno));
  }
  txn.file_bytes += txn.memory.size();
  spilled_bytes_ += txn.memory.size();
  txn.memory.clear();
  return {};
}

std::expected<void, std::string> StreamedTransactions::abort(Xid xid, Xid subxid) {
  auto found = transactions_.find(xid);
  if (found == transactions_.end()) return {};
  Transaction& txn = found->second;
  if (subxid == xid) {
    release(txn);
    transactions_.erase(found);
    return {};
  }
  auto& subs = txn.subtransactions;
  auto sub = std::ranges::find_if(subs, [&](const auto& s) { return s.first == subxid; });
  // Nothing of it was kept: the server dropped its changes before streaming them.
  if (sub == subs.end()) return {};
  const uint64_t from = sub->second;
  // Those that began after it were inside it.
  subs.erase(sub, subs.end());
  txn.last_subxid = 0;
  if (from >= txn.file_bytes) {
    txn.memory.resize(from - txn.file_bytes);
    return {};
  }
  if (ftruncate(txn.fd, static_cast<off_t>(from)) != 0) {
    return std::unexpected(file_error("cannot truncate", errno));
  }
  txn.file_bytes = from;
  txn.memory.clear();
  return {};
}

std::expected<bool, std::string> StreamedTransactions::replay(Xid xid, const Replay& each) {
  auto found = transactions_.find(xid);
  if (found == transactions_.end()) return true;
  Transaction txn = std::move(found->second);
  transactions_.erase(found);
  memory_bytes_ -= txn.memory.capacity();
  // Closed (and so removed) whatever happens below.
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) close(fd);
    }
  } closer{txn.fd};

  if (txn.fd >= 0) {
    std::vector<std::byte> buffer(kReadChunkBytes);
    size_t held = 0;  // bytes at the front of buffer not yet replayed
    uint64_t read_to = 0;
    while (read_to < txn.file_bytes) {
      const size_t want = std::min<uint64_t>(buffer.size() - held, txn.file_bytes - read_to);
      const ssize_t n = pread(txn.fd, buffer.data() + held, want, static_cast<off_t>(read_to));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::unexpected(file_error("cannot read back", n < 0 ? errno : EIO));
      held += static_cast<size_t>(n);
      read_to += static_cast<uint64_t>(n);
      const auto taken = replay_records({buffer.data(), held}, each);
      if (!taken) return false;
      held -= *taken;
      std::memmove(buffer.data(), buffer.data() + *taken, held);
      // A record larger than the buffer: room for all of it.
      if (held >= kHeaderBytes) {
        uint32_t length = 0;
        std::memcpy(&length, buffer.data(), sizeof length);
        if (kHeaderBytes + length > buffer.size()) buffer.resize(kHeaderBytes + length);
      }
    }
    // The file ends where a record ends: the memory's records follow on.
    if (held > 0) return std::unexpected(file_error("cut short", EIO));
  }
  const auto taken = replay_records(txn.memory, each);
  if (!taken) return false;
  return true;
}

void StreamedTransactions::release(Transaction& txn) {
  memory_bytes_ -= txn.memory.capacity();
  std::vector<std::byte>().swap(txn.memory);
  if (txn.fd >= 0) close(txn.fd);
  txn.fd = -1;
}

void StreamedTransactions::clear() {
  for (auto& [xid, txn] : transactions_) release(txn);
  transactions_.clear();
}

}  // namespace vil::cdc
