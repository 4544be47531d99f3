// A throwaway PostgreSQL cluster for tests, the demo and benchmarks.
//
// ThrowawayCluster::start() runs initdb in a fresh temporary folder
// ($TMPDIR or /tmp, prefix vil-pg-), starts `postgres` on a free TCP port of
// 127.0.0.1 with wal_level=logical, and waits until it accepts connections.
// The destructor stops the server and removes the folder. When the process
// runs as root, initdb and the server run as the `postgres` account (or
// `nobody`), because PostgreSQL refuses to run as root.
//
// With ClusterOptions::tls the server also speaks TLS, and hba_lines decide
// who must use it and how they authenticate (a client certificate, SCRAM):
//
//   ClusterOptions opts;
//   opts.tls = ServerTls{.cert_file = "server.crt", .key_file = "server.key",
//                        .ca_file = "ca.crt"};
//   opts.hba_lines = {"hostssl all alice 127.0.0.1/32 cert",
//                     "hostnossl all alice 127.0.0.1/32 reject"};
//
// make_standby() makes a physical standby of a running cluster, and
// promote() turns it into a primary, for failover tests:
//
//   auto primary = ThrowawayCluster::start();
//   auto standby = primary.make_standby({.sync_slots = true});  // 17+
//   ...
//   standby.promote();
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vil::testing {

// Any failure of the cluster: its message names the cause and, when the server
// was involved, ends with the tail of the server log.
class ClusterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How to stop the server: the signals of PostgreSQL's own shutdown modes.
enum class StopMode {
  Smart,  // SIGTERM: waits for every client to disconnect
  // SIGINT: disconnects clients, then a clean shutdown checkpoint. A logical
  // walsender waits (up to wal_sender_timeout) until its client reports
  // having written all WAL sent to it; use Immediate to cut a stream short.
  Fast,
  Immediate,  // SIGQUIT: no checkpoint; the next start runs crash recovery
};

// The server's TLS files (PEM). start() copies them into the data folder,
// owned by the account that runs the server and the key readable by it
// alone, as PostgreSQL demands; the originals may go once it returned.
struct ServerTls {
  std::filesystem::path cert_file;  // the server's certificate, any chain after it
  std::filesystem::path key_file;   // its private key, not encrypted
  // CAs whose client certificates the server accepts (ssl_ca_file, for
  // `cert` authentication); empty: none.
  std::filesystem::path ca_file{};
};

struct ClusterOptions {
  // postgresql.conf settings written after the defaults, so they override them.
  std::vector<std::pair<std::string, std::string>> settings{};
  int max_replication_slots = 20;
  int max_wal_senders = 20;
  // false: fsync and full_page_writes off (fast, and enough for anything
  // short of a machine crash). synchronous_commit stays on either way, so a
  // commit is at once visible to logical decoding and survives
  // StopMode::Immediate.
  bool durable = false;
  // The database superuser made by initdb; trusted on 127.0.0.1.
  std::string superuser = "postgres";
  // ssl=on with these files; without it a client's sslmode=require fails.
  std::optional<ServerTls> tls{};
  // pg_hba.conf lines put before the harness's own (the first line that
  // matches decides): e.g. "hostssl all alice 127.0.0.1/32 cert". Below them the
  // password roles need scram-sha-256 and everyone else is trusted. The
  // harness's own connections (the superuser, without TLS) must stay let in.
  std::vector<std::string> hba_lines{};
  // Keep the folder after the server stops (also when VIL_PG_KEEP=1).
  bool keep = false;
  // Keep the folder if mark_failed() was called.
  bool keep_on_failure = false;
  // Where the vil-pg-* folder is made; empty: $TMPDIR, else /tmp.
  std::filesystem::path parent_dir{};
  // Only when running as root: the account that runs initdb and the server;
  // empty: `postgres` if it exists, else `nobody`.
  std::string os_user{};
  // The server gets SIGINT when the thread that started it ends, so a killed
  // test leaves no server behind. Start clusters from a long-lived thread.
  bool die_with_parent = true;
  std::chrono::seconds start_timeout{30};
  std::chrono::seconds stop_timeout{60};
  // The server's major version ("14" ... "18"); empty: $VIL_PG_VERSION, and
  // when that is unset too, whichever server is installed (Debian's 15).
  // Looked for in $VIL_PG_SERVERS_DIR (default: the build's pg/ folder, filled
  // by scripts/setup.sh --pg-versions) as node_modules/pg<N>/native/bin, then
  // in /usr/lib/postgresql/<N>/bin. $VIL_PG_BINDIR overrides all of this.
  std::string server_version{};
};

// A physical standby of a running cluster (ThrowawayCluster::make_standby()).
struct StandbyOptions {
  // The physical slot on the primary that keeps the standby's WAL; empty: a
  // name of the harness's own (1 to 63 of a-z, 0-9 and _).
  std::string slot_name{};
  // Failover slots (PostgreSQL 17+): the standby copies the primary's
  // logical slots made with FAILOVER (sync_replication_slots = on), and the
  // primary's logical walsenders of such slots send nothing the standby has
  // not received (synchronized_standby_slots = the physical slot), so a
  // consumer is never ahead of the copy. Refused before 17.
  bool sync_slots = false;
  // postgresql.conf settings of the standby, after the primary's and the
  // harness's (later lines win).
  std::vector<std::pair<std::string, std::string>> settings{};
};

struct RoleOptions {
  bool superuser = false;
  bool replication = true;
};

// One result row; std::nullopt is SQL NULL. Values are PostgreSQL's text form.
using Row = std::vector<std::optional<std::string>>;

class ThrowawayCluster {
 public:
  // initdb + start; throws ClusterError.
  static ThrowawayCluster start(ClusterOptions opts = {});

  ThrowawayCluster(ThrowawayCluster&&) noexcept;
  ThrowawayCluster& operator=(ThrowawayCluster&&) noexcept;
  ThrowawayCluster(const ThrowawayCluster&) = delete;
  ThrowawayCluster& operator=(const ThrowawayCluster&) = delete;
  // Stops the server (fast, then immediate, then SIGKILL) and removes the
  // folder; prints the log tail first if mark_failed() was called.
  ~ThrowawayCluster();

  // libpq key/value connection string over TCP; user defaults to the superuser.
  std::string conninfo(std::string_view dbname = "postgres", std::string_view user = {}) const;
  int port() const;
  const std::string& superuser() const;
  const std::filesystem::path& root_dir() const;  // the vil-pg-* folder
  const std::filesystem::path& data_dir() const;
  const std::filesystem::path& socket_dir() const;
  const std::filesystem::path& log_path() const;
  const std::filesystem::path& bindir() const;
  // The last `lines` lines of the server log.
  std::string log_tail(std::size_t lines = 40) const;
  // The log's size now; log_since(size) is then what was logged after it
  // (at most the last `lines` lines of it).
  std::uintmax_t log_size() const;
  std::string log_since(std::uintmax_t offset, std::size_t lines = 100) const;

  bool running() const;
  int server_pid() const;  // 0 when stopped
  // Stops the server and waits for it to exit; the data stays.
  void stop(StopMode mode = StopMode::Fast);
  // Starts a stopped server again, on the same port and data folder.
  void start_again();
  void restart(StopMode mode = StopMode::Fast);

  // Runs SQL (may be several statements, one implicit transaction) as the
  // superuser on a connection of its own, so session settings do not carry
  // over to the next call; throws ClusterError with the server's message.
  void execute(std::string_view sql, std::string_view dbname = "postgres") const;
  // The rows of the last statement's result.
  std::vector<Row> query(std::string_view sql, std::string_view dbname = "postgres") const;
  void create_database(std::string_view name) const;
  // Also drops the database's logical slots and disconnects its sessions.
  void drop_database(std::string_view name) const;
  // A LOGIN role that must authenticate with scram-sha-256 on 127.0.0.1
  // (normal and replication connections) while every other role stays trusted.
  void create_role_with_password(std::string_view name, std::string_view password,
                                 RoleOptions role = {});

  // A physical standby of this running cluster, in a folder of its own, on a
  // free port, as its own server (same version, account and options). The
  // base backup is a copy of this cluster's data folder while it is stopped
  // (fast), so this server restarts on its port and its sessions end. The
  // primary gets a physical slot (StandbyOptions::slot_name) that holds
  // the standby's WAL; the standby has standby.signal, primary_conninfo
  // (with dbname=postgres, which slot synchronization needs),
  // primary_slot_name and hot_standby_feedback = on. Returns once the
  // standby accepts (read-only) connections and streams from the primary.
  // Throws ClusterError.
  ThrowawayCluster make_standby(StandbyOptions opts = {});
  // Ends a standby's recovery (pg_promote()) and waits, up to
  // ClusterOptions::start_timeout, until it takes writes.
  void promote();
  // pg_is_in_recovery(): a standby not (yet) promoted.
  bool in_recovery() const;
  // A standby's physical slot on its primary (empty for a primary).
  const std::string& primary_slot_name() const;

  // A test using this cluster failed: print the log tail on destruction and
  // honour keep_on_failure.
  void mark_failed();

 private:
  struct Impl;
  explicit ThrowawayCluster(std::unique_ptr<Impl> impl);
  Impl& impl() const;  // throws ClusterError on a moved-from object
  std::unique_ptr<Impl> impl_;
};

// On SIGINT, SIGTERM or SIGHUP: stop every live cluster of this process,
// remove their folders, then die of the same signal. For processes without a
// graceful shutdown of their own (test binaries, pg-throwaway while starting).
// Idempotent; a signal already ignored stays ignored.
void install_cleanup_on_signal();

}  // namespace vil::testing
