// The text of the cluster's configuration files and connection strings.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vil/testing/throwaway_cluster.hpp"

namespace vil::testing::detail {

// The block appended to initdb's postgresql.conf: our defaults, TLS when
// asked for, then the caller's settings (later lines win). Throws
// ClusterError on a malformed key.
std::string postgresql_conf(const ClusterOptions& opts, const std::filesystem::path& socket_dir);

// The block appended to a standby's copy of its primary's postgresql.conf:
// its own socket folder, where the primary is (`primary_conninfo`, a libpq
// string) and which physical slot holds its WAL, hot_standby_feedback,
// slot synchronization when asked for (17+), then `opts.settings`.
std::string standby_conf(const StandbyOptions& opts, const std::string& primary_conninfo,
                         const std::filesystem::path& socket_dir);

// pg_hba.conf: the caller's lines first; then the password roles need
// scram-sha-256 on 127.0.0.1; every other role is trusted there and on the
// unix socket. Throws ClusterError on a line with a line break.
std::string pg_hba_conf(const std::vector<std::string>& hba_lines,
                        const std::vector<std::string>& password_roles);

// A value in a libpq key/value string, quoted when needed.
std::string conninfo_value(std::string_view value);

// Throws ClusterError unless `name` can be a role or database name here.
void check_object_name(std::string_view what, std::string_view name);

}  // namespace vil::testing::detail
