// TLS for the throwaway server: its files in the data folder, and the
// postgresql.conf settings that name them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "process.hpp"
#include "vil/testing/throwaway_cluster.hpp"

namespace vil::testing::detail {

// ssl=on and the files install_tls_files() made, by names relative to the
// data folder (where PostgreSQL looks for them).
std::vector<std::pair<std::string, std::string>> tls_settings(const ServerTls& tls);

// Throws ClusterError naming a file of `tls` that cannot be read, so that a
// wrong path costs no initdb.
void check_tls_files(const ServerTls& tls);

// Copies the files into `data_dir`, owned by `account` (the server's, when
// we are root) and readable by it alone: the server refuses a key that
// others may read. Throws ClusterError.
void install_tls_files(const ServerTls& tls, const std::filesystem::path& data_dir,
                       const std::optional<Account>& account);

}  // namespace vil::testing::detail
