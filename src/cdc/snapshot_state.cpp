#include "snapshot_state.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vil/pgoutput/lsn.hpp"

namespace vil::cdc {

namespace {

constexpr int kVersion = 1;

std::string system_error(int code) {
  return std::strerror(code);
}

// Writes all of `text` to `fd`.
bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

bool initial_snapshot_unfinished(const SnapshotState& state) {
  for (const IncrementalTable& table : state.incremental) {
    if (table.by_blocks) return true;
  }
  return false;
}

std::expected<SnapshotState, std::string> load_snapshot_state(const std::string& path,
                                                              const std::string& slot,
                                                              const std::string& publication) {
  SnapshotState state;
  state.slot = slot;
  state.publication = publication;
  std::error_code missing;
  if (!std::filesystem::exists(path, missing) && !missing) return state;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::unexpected(
        fmt::format("snapshot state file {} cannot be read: {}", path, system_error(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  const auto not_state = [&](std::string_view why) {
    return std::unexpected(
        fmt::format("snapshot state file {} is not one vil-cdc wrote: {}", path, why));
  };
  try {
    const nlohmann::json j = nlohmann::json::parse(text.str());
    if (j.at("version").get<int>() != kVersion) return not_state("an unknown version");
    const auto file_slot = j.at("slot").get<std::string>();
    const auto file_publication = j.at("publication").get<std::string>();
    if (file_slot != slot || file_publication != publication) {
      return std::unexpected(fmt::format(
          "snapshot state file {} belongs to slot \"{}\" and publication \"{}\", not to slot "
          "\"{}\" and publication \"{}\" (give each stream its own --snapshot-state)",
          path, file_slot, file_publication, slot, publication));
    }
    const auto lsn = pgoutput::parse_lsn(j.at("last_request_lsn").get<std::string>());
    if (!lsn) return not_state("last_request_lsn is not an LSN");
    state.last_request_lsn = lsn->value;
    for (const auto& t : j.at("incremental")) {
      IncrementalTable table;
      table.schema = t.at("schema").get<std::string>();
      table.name = t.at("table").get<std::string>();
      table.after = t.at("after").get<std::vector<std::string>>();
      table.rows_read = t.at("rows_read").get<uint64_t>();
      if (t.contains("ranges")) {
        table.by_blocks = true;
        table.relfilenode = t.at("relfilenode").get<uint64_t>();
        for (const auto& r : t.at("ranges")) {
          BlockRange range;
          range.from = r.at(0).get<uint64_t>();
          if (!r.at(1).is_null()) range.to = r.at(1).get<uint64_t>();
          table.ranges.push_back(range);
        }
      }
      state.incremental.push_back(std::move(table));
    }
  } catch (const nlohmann::json::exception& e) {
    return not_state(e.what());
  }
  return state;
}

std::expected<void, std::string> save_snapshot_state(const std::string& path,
                                                     const SnapshotState& state) {
  nlohmann::json j;
  j["version"] = kVersion;
  j["slot"] = state.slot;
  j["publication"] = state.publication;
  j["last_request_lsn"] = pgoutput::to_string(pgoutput::Lsn{state.last_request_lsn});
  j["incremental"] = nlohmann::json::array();
  for (const IncrementalTable& t : state.incremental) {
    nlohmann::json entry = {
        {"schema", t.schema}, {"table", t.name}, {"after", t.after}, {"rows_read", t.rows_read}};
    if (t.by_blocks) {
      entry["relfilenode"] = t.relfilenode;
      entry["ranges"] = nlohmann::json::array();
      for (const BlockRange& r : t.ranges) {
        entry["ranges"].push_back({r.from, r.to ? nlohmann::json(*r.to) : nlohmann::json()});
      }
    }
    j["incremental"].push_back(std::move(entry));
  }
  const std::string text = j.dump(2) + "\n";

  const std::filesystem::path file(path);
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) {
    return std::unexpected(
        fmt::format("snapshot state file {}: cannot create its directory: {}", path, ec.message()));
  }
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return std::unexpected(fmt::format("snapshot state file {} cannot be written: {}", temporary,
                                       system_error(errno)));
  }
  const bool written = write_all(fd, text) && ::fsync(fd) == 0;
  const int write_errno = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    return std::unexpected(fmt::format("snapshot state file {} cannot be written: {}", temporary,
                                       system_error(write_errno)));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    ::unlink(temporary.c_str());
    return std::unexpected(fmt::format("snapshot state file {} cannot be replaced: {}", path,
                                       system_error(rename_errno)));
  }
  // The rename itself must survive a crash.
  const std::string directory =
      file.has_parent_path() ? file.parent_path().string() : std::string(".");
  const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return {};
}

}  // namespace vil::cdc
