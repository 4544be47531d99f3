#pragma once
// The string dictionary: hash -> text, so drains can print names instead of
// the hashes that records carry.
//
// File form (shared with the Rust crates):
//   {"<u32 decimal>": {"value": "<text>", "hash64": <u64>}, ...}
// save() writes it with two-space indentation, keys in lexicographic order, a
// final newline. Text that is not valid UTF-8 is saved with U+FFFD in place of
// the bad bytes (JSON holds only Unicode); the key stays the original hash.

#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vil::log {

class Dictionary {
 public:
  Dictionary();
  ~Dictionary();
  Dictionary(const Dictionary&) = delete;
  Dictionary& operator=(const Dictionary&) = delete;

  // fx_hash32(text), remembering text. Thread-safe; a name already present
  // costs a shared lock and one lookup. On a 32-bit collision the first text
  // registered keeps the entry.
  std::uint32_t register_str(std::string_view text);

  std::optional<std::string> lookup(std::uint32_t hash) const;
  std::size_t size() const;

  // The file form above, as a string.
  std::string to_json() const;
  // Merges entries in the file form; entries already present are kept.
  // Returns how many entries were added, or a sentence naming what is wrong.
  std::expected<std::size_t, std::string> merge_json(std::string_view json);

  std::expected<void, std::string> save(const std::filesystem::path& path) const;
  std::expected<std::size_t, std::string> load(const std::filesystem::path& path);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The process-wide dictionary and shortcuts to it.
Dictionary& dictionary();
std::uint32_t register_str(std::string_view text);
std::optional<std::string> lookup(std::uint32_t hash);

}  // namespace vil::log
