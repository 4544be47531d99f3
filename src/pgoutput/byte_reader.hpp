#pragma once
// A bounds-checked big-endian reader over one frame or message. The first
// failure sticks: later reads return zeros and empty views, so a read function
// can read all its fields in order and check once, the way PostgreSQL's own
// pq_getmsg* calls read a message.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "vil/pgoutput/byte_order.hpp"
#include "vil/pgoutput/error.hpp"
#include "vil/pgoutput/lsn.hpp"
#include "vil/pgoutput/timestamp.hpp"
#include "vil/pgoutput/tuple.hpp"

namespace vil::pgoutput::detail {

class ByteReader {
 public:
  // `what` names the frame or message in errors ("Insert"); `unit` is "frame"
  // or "message".
  ByteReader(std::span<const std::byte> data, std::string_view what, std::string_view unit) noexcept
      : data_(data.data()), size_(data.size()), what_(what), unit_(unit) {}

  [[nodiscard]] bool failed() const noexcept { return error_.has_value(); }
  [[nodiscard]] std::size_t offset() const noexcept { return pos_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return size_ - pos_; }
  [[nodiscard]] const std::byte* here() const noexcept { return data_ + pos_; }
  [[nodiscard]] std::string_view what() const noexcept { return what_; }
  [[nodiscard]] std::uint8_t type_byte() const noexcept {
    return size_ == 0 ? 0 : static_cast<std::uint8_t>(data_[0]);
  }

  template <typename T>
  [[nodiscard]] T read(std::string_view field) noexcept {
    if (remaining() < sizeof(T)) {
      truncated(field, sizeof(T));
      return T{};
    }
    const T value = load_be<T>(here());
    pos_ += sizeof(T);
    return value;
  }
  [[nodiscard]] std::uint8_t u8(std::string_view field) noexcept {
    return read<std::uint8_t>(field);
  }
  [[nodiscard]] std::uint16_t u16(std::string_view field) noexcept {
    return read<std::uint16_t>(field);
  }
  [[nodiscard]] std::uint32_t u32(std::string_view field) noexcept {
    return read<std::uint32_t>(field);
  }
  [[nodiscard]] std::int32_t i32(std::string_view field) noexcept {
    return read<std::int32_t>(field);
  }
  [[nodiscard]] Lsn lsn(std::string_view field) noexcept { return Lsn{read<std::uint64_t>(field)}; }
  [[nodiscard]] PgTimestamp timestamp(std::string_view field) noexcept {
    return PgTimestamp{read<std::int64_t>(field)};
  }

  // `count` raw bytes.
  [[nodiscard]] std::span<const std::byte> bytes(std::size_t count, std::string_view field);
  // The rest of the data.
  [[nodiscard]] std::span<const std::byte> rest() noexcept;
  // A NUL-terminated string (PostgreSQL's String), without its NUL.
  [[nodiscard]] std::string_view cstring(std::string_view field, bool validate_utf8);
  // TupleData: Int16 count, then per column a kind byte and, for 't' and 'b',
  // Int32 length and the bytes. Checks every length so the view can't fail.
  [[nodiscard]] TupleView tuple(std::string_view field);
  // A Relation's columns: per column Int8 flags, String name, Int32 type OID,
  // Int32 type modifier.
  [[nodiscard]] RelationColumns relation_columns(std::uint16_t count, bool validate_utf8);
  // `count` relation OIDs (Truncate); the caller checked that they fit.
  [[nodiscard]] RelationIds relation_ids(std::uint32_t count);

  // Records an error at `offset` (the first one wins) and stops reading.
  void fail(DecodeErrc code, std::size_t offset, std::string message);
  // An error unless every byte was read.
  void expect_end() {
    if (!failed() && remaining() != 0) [[unlikely]] {
      trailing_bytes();
    }
  }
  // Checks that `flags` (read at `offset`) has no bits outside `known`.
  void check_flags(std::uint8_t flags, std::uint8_t known, std::size_t offset);

  [[nodiscard]] DecodeError take_error() noexcept { return std::move(*error_); }

 private:
  void truncated(std::string_view field, std::size_t needed);
  void trailing_bytes();

  const std::byte* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::string_view what_;
  std::string_view unit_;
  std::optional<DecodeError> error_;
};

}  // namespace vil::pgoutput::detail
