// Where the PostgreSQL server programs (initdb, postgres) are.
#pragma once

#include <filesystem>
#include <string_view>

namespace vil::testing::detail {

// $VIL_PG_BINDIR if set; else, for a major version ("16"; empty:
// $VIL_PG_VERSION), that version's folder (ClusterOptions::server_version);
// else `pg_config --bindir` if initdb and postgres are there (Debian's
// libpq-dev pg_config points at /usr/bin, which has neither); else
// /usr/lib/postgresql/<highest version>/bin; else the folder on PATH that has
// initdb. Throws ClusterError naming every place it looked.
std::filesystem::path find_server_bindir(std::string_view version);

}  // namespace vil::testing::detail
