#include "vil/log/dictionary.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <sstream>
#include <system_error>
#include <unordered_map>

#include "vil/log/fx_hash.hpp"

namespace vil::log {

struct Dictionary::State {
  struct Entry {
    std::string value;
    std::uint64_t hash64;
  };
  mutable std::shared_mutex mutex;
  std::unordered_map<std::uint32_t, Entry> entries;
};

Dictionary::Dictionary() : state_(std::make_unique<State>()) {}
Dictionary::~Dictionary() = default;

std::uint32_t Dictionary::register_str(std::string_view text) {
  const std::uint64_t hash64 = fx_hash64(text);
  const auto hash = static_cast<std::uint32_t>(hash64);
  {
    std::shared_lock lock(state_->mutex);
    if (state_->entries.contains(hash)) return hash;
  }
  std::unique_lock lock(state_->mutex);
  state_->entries.try_emplace(hash, State::Entry{std::string(text), hash64});
  return hash;
}

std::optional<std::string> Dictionary::lookup(std::uint32_t hash) const {
  std::shared_lock lock(state_->mutex);
  const auto it = state_->entries.find(hash);
  if (it == state_->entries.end()) return std::nullopt;
  return it->second.value;
}

std::size_t Dictionary::size() const {
  std::shared_lock lock(state_->mutex);
  return state_->entries.size();
}

std::string Dictionary::to_json() const {
  nlohmann::json doc = nlohmann::json::object();
  {
    std::shared_lock lock(state_->mutex);
    for (const auto& [hash, entry] : state_->entries) {
      doc[std::to_string(hash)] = {{"value", entry.value}, {"hash64", entry.hash64}};
    }
  }
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

std::optional<std::uint32_t> parse_key(const std::string& key) {
  std::uint32_t value = 0;
  const char* end = key.data() + key.size();
  const auto [ptr, ec] = std::from_chars(key.data(), end, value);
  if (key.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  if (key.size() > 1 && key[0] == '0') return std::nullopt;
  return value;
}

std::string last_os_error() {
  return std::generic_category().message(errno);
}

}  // namespace

std::expected<std::size_t, std::string> Dictionary::merge_json(std::string_view json) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded()) return std::unexpected("dictionary is not valid JSON");
  if (!doc.is_object()) return std::unexpected("dictionary must be a JSON object");

  // Validate everything first so that a bad file adds nothing.
  std::map<std::uint32_t, State::Entry> parsed;
  for (const auto& [key, item] : doc.items()) {
    const auto hash = parse_key(key);
    if (!hash) {
      return std::unexpected(
          fmt::format("dictionary key \"{}\" is not a 32-bit unsigned decimal number", key));
    }
    if (!item.is_object() || !item.contains("value") || !item["value"].is_string() ||
        !item.contains("hash64") || !item["hash64"].is_number_unsigned()) {
      return std::unexpected(fmt::format(
          "dictionary entry \"{}\" must be an object with a string \"value\" and an unsigned "
          "\"hash64\"",
          key));
    }
    const auto hash64 = item["hash64"].get<std::uint64_t>();
    if (static_cast<std::uint32_t>(hash64) != *hash) {
      return std::unexpected(fmt::format(
          "dictionary entry \"{}\": hash64 {} does not truncate to the key", key, hash64));
    }
    parsed.emplace(*hash, State::Entry{item["value"].get<std::string>(), hash64});
  }

  std::unique_lock lock(state_->mutex);
  std::size_t added = 0;
  for (auto& [hash, entry] : parsed) {
    if (state_->entries.try_emplace(hash, std::move(entry)).second) ++added;
  }
  return added;
}

std::expected<void, std::string> Dictionary::save(const std::filesystem::path& path) const {
  const std::string text = to_json();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return std::unexpected(
        fmt::format("cannot write dictionary file {}: {}", path.string(), last_os_error()));
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return std::unexpected(fmt::format("writing dictionary file {} failed", path.string()));
  return {};
}

std::expected<std::size_t, std::string> Dictionary::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::unexpected(
        fmt::format("cannot read dictionary file {}: {}", path.string(), last_os_error()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto added = merge_json(text.str());
  if (!added) return std::unexpected(fmt::format("{}: {}", path.string(), added.error()));
  return added;
}

Dictionary& dictionary() {
  // Never destroyed: drains and late writers may still use it during exit.
  static Dictionary* const kInstance = new Dictionary();
  return *kInstance;
}

std::uint32_t register_str(std::string_view text) {
  return dictionary().register_str(text);
}

std::optional<std::string> lookup(std::uint32_t hash) {
  return dictionary().lookup(hash);
}

}  // namespace vil::log
