// Where the PostgreSQL server programs (initdb, postgres) are.
#pragma once

#include <filesystem>

namespace vil::testing::detail {

// $VIL_PG_BINDIR if set; else `pg_config --bindir` if initdb and postgres are
// there (Debian's libpq-dev pg_config points at /usr/bin, which has neither);
// else /usr/lib/postgresql/<highest version>/bin; else the folder on PATH
// that has initdb. Throws ClusterError naming every place it looked.
std::filesystem::path find_server_bindir();

}  // namespace vil::testing::detail
