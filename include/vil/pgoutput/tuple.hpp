#pragma once
// Views over the variable-length parts of pgoutput messages: a tuple's column
// values, a Relation's column descriptions, a Truncate's relation ids. They
// point into the frame and parse as they iterate, without allocating. Only the
// decoder makes non-empty views, after it has checked every length against the
// message's end, so iterating cannot fail or read out of bounds.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>

#include "vil/pgoutput/byte_order.hpp"

namespace vil::pgoutput {

namespace detail {
class ByteReader;  // the decoder's reader (src/pgoutput), which makes these views
}  // namespace detail

using Oid = std::uint32_t;
using Xid = std::uint32_t;

// TupleData's per-column byte.
enum class ColumnKind : char {
  Null = 'n',
  UnchangedToast = 'u',  // a TOASTed value the UPDATE left alone: not sent
  Text = 't',             // the type's output function
  Binary = 'b',           // the type's send function (option binary 'true')
};

struct ColumnValue {
  ColumnKind kind = ColumnKind::Null;
  std::span<const std::byte> bytes;  // empty unless text or binary

  [[nodiscard]] bool is_null() const noexcept { return kind == ColumnKind::Null; }
  [[nodiscard]] bool is_unchanged_toast() const noexcept {
    return kind == ColumnKind::UnchangedToast;
  }
  [[nodiscard]] bool has_value() const noexcept {
    return kind == ColumnKind::Text || kind == ColumnKind::Binary;
  }
  // The bytes as characters; for text values, in the server's encoding.
  [[nodiscard]] std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
};

class TupleView {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = ColumnValue;
    using difference_type = std::ptrdiff_t;
    using pointer = const ColumnValue*;
    using reference = const ColumnValue&;

    iterator() = default;
    reference operator*() const noexcept { return current_; }
    pointer operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept {
      --remaining_;
      load();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++*this;
      return before;
    }
    // Iterators of the same tuple: equal when as many columns remain.
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.remaining_ == b.remaining_;
    }

   private:
    friend class TupleView;
    iterator(const std::byte* next, std::uint16_t remaining) noexcept
        : next_(next), remaining_(remaining) {
      load();
    }
    void load() noexcept {
      if (remaining_ == 0) return;
      current_.kind = static_cast<ColumnKind>(next_[0]);
      if (current_.kind == ColumnKind::Text || current_.kind == ColumnKind::Binary) {
        const auto length = load_be<std::uint32_t>(next_ + 1);
        current_.bytes = {next_ + 5, length};
        next_ += 5 + std::size_t{length};
      } else {
        current_.bytes = {};
        next_ += 1;
      }
    }

    const std::byte* next_ = nullptr;
    std::uint16_t remaining_ = 0;
    ColumnValue current_;
  };

  TupleView() = default;

  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] iterator begin() const noexcept { return {columns_, count_}; }
  [[nodiscard]] iterator end() const noexcept { return {}; }
  // The tuple as sent: Int16 column count, then the columns.
  [[nodiscard]] std::span<const std::byte> wire_bytes() const noexcept {
    return columns_ == nullptr ? std::span<const std::byte>{} : std::span{columns_ - 2, size_ + 2};
  }

 private:
  // The decoder's: `columns` points after the count, and the caller has
  // checked that `count` columns fit in `size` bytes.
  friend class detail::ByteReader;
  [[nodiscard]] static TupleView from_validated(const std::byte* columns, std::size_t size,
                                                std::uint16_t count) noexcept {
    TupleView view;
    view.columns_ = columns;
    view.size_ = size;
    view.count_ = count;
    return view;
  }

  const std::byte* columns_ = nullptr;
  std::size_t size_ = 0;
  std::uint16_t count_ = 0;
};

// One column of a Relation message.
struct RelationColumn {
  std::uint8_t flags = 0;  // bit 0: part of the replica identity (the key)
  std::string_view name;
  Oid type_oid = 0;
  std::int32_t type_modifier = -1;  // atttypmod; -1 when the type has none

  [[nodiscard]] bool is_key() const noexcept { return (flags & 1U) != 0; }
};

class RelationColumns {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = RelationColumn;
    using difference_type = std::ptrdiff_t;
    using pointer = const RelationColumn*;
    using reference = const RelationColumn&;

    iterator() = default;
    reference operator*() const noexcept { return current_; }
    pointer operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept {
      --remaining_;
      load();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.remaining_ == b.remaining_;
    }

   private:
    friend class RelationColumns;
    iterator(const std::byte* next, std::uint16_t remaining) noexcept
        : next_(next), remaining_(remaining) {
      load();
    }
    void load() noexcept {
      if (remaining_ == 0) return;
      current_.flags = static_cast<std::uint8_t>(next_[0]);
      const char* name = reinterpret_cast<const char*>(next_ + 1);
      current_.name = std::string_view(name);  // the decoder found its NUL
      next_ += 1 + current_.name.size() + 1;
      current_.type_oid = load_be<std::uint32_t>(next_);
      current_.type_modifier = load_be<std::int32_t>(next_ + 4);
      next_ += 8;
    }

    const std::byte* next_ = nullptr;
    std::uint16_t remaining_ = 0;
    RelationColumn current_;
  };

  RelationColumns() = default;

  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] iterator begin() const noexcept { return {columns_, count_}; }
  [[nodiscard]] iterator end() const noexcept { return {}; }

 private:
  // The decoder's: the caller checked that `count` columns are there.
  friend class detail::ByteReader;
  [[nodiscard]] static RelationColumns from_validated(const std::byte* columns,
                                                      std::uint16_t count) noexcept {
    RelationColumns view;
    view.columns_ = columns;
    view.count_ = count;
    return view;
  }

  const std::byte* columns_ = nullptr;
  std::uint16_t count_ = 0;
};

// A Truncate's relation ids: an array of Int32 in network order.
class RelationIds {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Oid;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    Oid operator*() const noexcept { return load_be<std::uint32_t>(p_); }
    iterator& operator++() noexcept {
      p_ += 4;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator before = *this;
      p_ += 4;
      return before;
    }
    friend bool operator==(const iterator&, const iterator&) noexcept = default;

   private:
    friend class RelationIds;
    explicit iterator(const std::byte* p) noexcept : p_(p) {}
    const std::byte* p_ = nullptr;
  };

  RelationIds() = default;

  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] Oid operator[](std::size_t i) const noexcept {
    return load_be<std::uint32_t>(ids_ + 4 * i);
  }
  [[nodiscard]] iterator begin() const noexcept { return iterator{ids_}; }
  [[nodiscard]] iterator end() const noexcept { return iterator{ids_ + 4 * count_}; }

 private:
  // The decoder's: the caller checked that `count` ids are there.
  friend class detail::ByteReader;
  [[nodiscard]] static RelationIds from_validated(const std::byte* ids,
                                                  std::size_t count) noexcept {
    RelationIds view;
    view.ids_ = ids;
    view.count_ = count;
    return view;
  }

  const std::byte* ids_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace vil::pgoutput
