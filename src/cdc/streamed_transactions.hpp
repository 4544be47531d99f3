#pragma once
// The changes of in-progress transactions the server streams (protocol 2+,
// `streaming` on; docs/DESIGN.md §6.11), kept until each one's Stream Commit
// or Stream Abort, so that the owner still gets every transaction whole, in
// commit order, and never aborted work.
//
// Each open transaction (several may be open at once) keeps its changes as
// records in the order the server sent them. All of them together are held
// in memory up to a bound; past it the largest moves to a spill file of its
// own in the spill folder, and its later changes follow it there. A spill
// file has no name (O_TMPFILE, or unlinked as soon as it was made where the
// file system cannot do that): whatever ends the process, nothing is left
// that a restart could mistake for its own, and the server streams every
// open transaction again to the next session anyway.
//
// A subtransaction that aborts takes with it every change from its first
// one on: while it was open nothing else of its transaction could change,
// and the server sends its Stream Abort before anything that came after.
//
// No threads and no clock; the only I/O is the spill files.

#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vil::cdc {

class StreamedTransactions {
 public:
  using Xid = uint32_t;
  // One kept change, as a transaction that is not streamed carries it: the
  // message type, then its body without the streamed xid.
  using Replay = std::function<bool(uint64_t lsn, std::span<const std::byte> message)>;

  // `memory_limit`: bytes all open transactions keep in memory together
  // before the largest is spilled. `spill_dir`: where spill files are made.
  StreamedTransactions(uint64_t memory_limit, std::filesystem::path spill_dir);
  ~StreamedTransactions();
  StreamedTransactions(const StreamedTransactions&) = delete;
  StreamedTransactions& operator=(const StreamedTransactions&) = delete;

  // Makes the spill folder when it is missing and checks that a spill file
  // can be made there. The error names the folder and the cause.
  [[nodiscard]] std::expected<void, std::string> check_spill_dir() const;

  // A change of the streamed transaction `xid` (Stream Start's), made by
  // `subxid` (the xid the change carries: `xid` itself or one of its
  // subtransactions), at `lsn`. `type` is the message type and `body` what
  // follows the xid. The error (a spill file that could not be written)
  // names the file's folder and the cause.
  [[nodiscard]] std::expected<void, std::string> append(Xid xid, Xid subxid, uint64_t lsn,
                                                        std::byte type,
                                                        std::span<const std::byte> body);

  // Stream Abort: the whole transaction (subxid == xid), or the
  // subtransaction and everything kept after its first change.
  [[nodiscard]] std::expected<void, std::string> abort(Xid xid, Xid subxid);

  // Stream Commit: calls `each` on every change kept for `xid`, in order,
  // until it returns false (the answer is then false), and forgets the
  // transaction whatever happens. A transaction with nothing kept calls
  // nothing. The error: a spill file that could not be read back.
  [[nodiscard]] std::expected<bool, std::string> replay(Xid xid, const Replay& each);

  // A new session: the server streams every open transaction again.
  void clear();

  [[nodiscard]] size_t open() const { return transactions_.size(); }
  [[nodiscard]] uint64_t memory_bytes() const { return memory_bytes_; }
  // Bytes ever written to spill files, and transactions ever spilled.
  [[nodiscard]] uint64_t spilled_bytes() const { return spilled_bytes_; }
  [[nodiscard]] uint64_t spilled_transactions() const { return spilled_transactions_; }

 private:
  struct Transaction {
    // Records not (yet) in the spill file; once spilled, a write buffer.
    std::vector<std::byte> memory;
    int fd = -1;              // the spill file, once there is one
    uint64_t file_bytes = 0;  // records in the spill file (they come first)
    // Where the kept changes of each subtransaction begin (offsets into the
    // transaction's records, file then memory), in the order they began.
    std::vector<std::pair<Xid, uint64_t>> subtransactions;
    Xid last_subxid = 0;

    [[nodiscard]] uint64_t size() const { return file_bytes + memory.size(); }
  };

  // Room for `more` bytes in `txn`'s memory within the limit: spills the
  // largest holders until there is.
  [[nodiscard]] std::expected<void, std::string> make_room(Transaction& txn, size_t more);
  [[nodiscard]] std::expected<void, std::string> spill(Transaction& txn);
  [[nodiscard]] std::expected<void, std::string> write_out(Transaction& txn);
  [[nodiscard]] std::expected<int, std::string> open_spill_file() const;
  void release(Transaction& txn);
  [[nodiscard]] std::string file_error(std::string_view doing, int error) const;

  uint64_t memory_limit_;
  std::filesystem::path spill_dir_;
  std::unordered_map<Xid, Transaction> transactions_;
  uint64_t memory_bytes_ = 0;  // capacity of every transaction's memory
  uint64_t spilled_bytes_ = 0;
  uint64_t spilled_transactions_ = 0;
};

}  // namespace vil::cdc
