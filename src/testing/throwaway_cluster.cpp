#include "vil/testing/throwaway_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "cleanup_registry.hpp"
#include "cluster_config.hpp"
#include "pg_session.hpp"
#include "process.hpp"
#include "server_binaries.hpp"
#include "server_tls.hpp"
#include "stale_clusters.hpp"

namespace vil::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::size_t kErrorLogLines = 30;

bool keep_from_env() {
  const char* keep = std::getenv("VIL_PG_KEEP");
  return keep && *keep && std::string_view(keep) != "0";
}

std::string file_tail(const fs::path& file, std::size_t lines, std::uintmax_t from = 0) {
  // The end of a long log is enough: read at most its last 256 KiB.
  constexpr std::uintmax_t kWindow = 256 * 1024;
  std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(file.c_str(), "rb"), std::fclose);
  if (!in) return {};
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec || size <= from) return {};
  const std::uintmax_t begin = std::max(from, size > kWindow ? size - kWindow : 0);
  if (std::fseek(in.get(), static_cast<long>(begin), SEEK_SET) != 0) return {};
  std::string text(static_cast<std::size_t>(size - begin), '\0');
  text.resize(std::fread(text.data(), 1, text.size(), in.get()));
  if (lines == 0) return {};
  // Walk back over `lines` line ends, not counting the one that ends the text.
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  std::size_t start = 0;
  for (std::size_t n = 0; n < lines && pos > 0; ++n) {
    const auto nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      start = 0;
      break;
    }
    start = nl + 1;
    pos = nl;
  }
  return text.substr(start);
}

std::string with_tail(std::string message, const fs::path& file, std::uintmax_t from = 0) {
  std::string tail = file_tail(file, kErrorLogLines, from);
  if (tail.empty()) return message + fmt::format(" ({} is empty)", file.string());
  if (tail.back() != '\n') tail += '\n';
  return fmt::format("{}\n--- last lines of {} ---\n{}---", message, file.string(), tail);
}

std::uintmax_t size_or_zero(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  return ec ? 0 : size;
}

// The account can reach `dir`: every folder on the way lets it search.
bool traversable(const fs::path& dir, const detail::Account& account) {
  std::error_code ec;
  fs::path path = fs::absolute(dir, ec);
  if (ec) return false;
  for (fs::path prefix; const auto& part : path) {
    prefix /= part;
    struct stat st {};
    if (stat(prefix.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
    const mode_t bit = st.st_uid == account.uid   ? S_IXUSR
                       : st.st_gid == account.gid ? S_IXGRP
                                                  : S_IXOTH;
    if (!(st.st_mode & bit)) return false;
  }
  return true;
}

fs::path choose_parent(const ClusterOptions& opts, const std::optional<detail::Account>& account) {
  fs::path parent = opts.parent_dir;
  if (parent.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    parent = tmpdir && *tmpdir ? fs::path(tmpdir) : fs::path("/tmp");
    // A private $TMPDIR (under /root, say) is out of the server account's reach.
    if (account && !traversable(parent, *account)) parent = "/tmp";
  }
  if (account && !traversable(parent, *account)) {
    throw ClusterError(fmt::format(
        "account '{}' that runs PostgreSQL cannot reach {} (a folder on the way lacks search "
        "permission); choose another parent folder",
        account->name, parent.string()));
  }
  return parent;
}

// A port that was free a moment ago; start-up retries if someone takes it.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ClusterError(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    close(fd);
    throw ClusterError(fmt::format("cannot find a free port on 127.0.0.1: {}", std::strerror(err)));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// postmaster.pid says this server is ready for connections (what pg_ctl
// waits for); line 8 is the status, "standby" for a hot standby.
bool postmaster_ready(const fs::path& data_dir, pid_t pid) {
  std::ifstream in(data_dir / "postmaster.pid");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (n == 1 && std::atol(line.c_str()) != pid) return false;
    if (n == 8) return line.starts_with("ready") || line.starts_with("standby");
  }
  return false;
}

// A physical slot name of our own: unique in this process and among
// processes (the pid).
std::string standby_slot_name() {
  static std::atomic<unsigned> next{0};
  return fmt::format("vil_standby_{}_{}", getpid(), next.fetch_add(1));
}

void check_slot_name(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 63 && std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!ok) {
    throw ClusterError(fmt::format("invalid slot name '{}': use 1 to 63 of a-z, 0-9 and _", name));
  }
}

void write_file(const fs::path& file, const std::string& text, std::ios::openmode mode) {
  // Opened in place, so a file initdb made keeps its owner.
  std::ofstream out(file, mode);
  out << text;
  if (!out.flush()) throw ClusterError(fmt::format("cannot write {}", file.string()));
}

int stop_signal(StopMode mode) {
  switch (mode) {
    case StopMode::Smart:
      return SIGTERM;
    case StopMode::Fast:
      return SIGINT;
    case StopMode::Immediate:
      return SIGQUIT;
  }
  return SIGINT;
}

}  // namespace

struct ThrowawayCluster::Impl {
  ClusterOptions opts;
  fs::path bindir;
  fs::path root;
  fs::path data;
  fs::path sockets;
  fs::path log;
  fs::path initdb_log;
  std::optional<detail::Account> account;
  int port = 0;
  int major_version = 0;     // from PG_VERSION
  std::string primary_slot;  // a standby's physical slot on its primary
  pid_t pid = 0;
  int slot = -1;
  bool failed = false;        // mark_failed(): print the log, maybe keep
  bool start_failed = false;  // start() threw: maybe keep, the error has the log
  std::vector<std::string> password_roles;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { teardown(); }

  // For our own connections: libpq's PGSSLMODE and the like in the
  // environment must not break them (the server has no GSSAPI, and TLS only
  // when asked for: these need none).
  std::string own_conninfo(std::string_view dbname, std::string_view user = {}) const {
    return conninfo(dbname, user) + " sslmode=disable gssencmode=disable";
  }

  std::string conninfo(std::string_view dbname, std::string_view user) const {
    return fmt::format("host=127.0.0.1 port={} user={} dbname={}", port,
                       detail::conninfo_value(user.empty() ? opts.superuser : user),
                       detail::conninfo_value(dbname));
  }

  void make_folder() {
    const fs::path parent = choose_parent(opts, account);
    detail::remove_stale_clusters(parent);
    std::string pattern = (parent / (std::string(detail::kFolderPrefix) + "XXXXXX")).string();
    if (!mkdtemp(pattern.data())) {
      throw ClusterError(
          fmt::format("cannot create a folder in {}: {}", parent.string(), std::strerror(errno)));
    }
    root = pattern;
    slot = detail::register_cluster(root);
    detail::set_registered_keep(slot, opts.keep || keep_from_env());
    detail::write_marker(root);
    data = root / "data";
    sockets = root / "socket";
    log = root / "server.log";
    initdb_log = root / "initdb.log";
    std::error_code ec;
    if (!fs::create_directory(sockets, ec)) {
      throw ClusterError(fmt::format("cannot create {}: {}", sockets.string(), ec.message()));
    }
    if (account) {
      for (const auto& dir : {root, sockets}) {
        if (chown(dir.c_str(), account->uid, account->gid) != 0) {
          throw ClusterError(fmt::format("cannot hand {} to account '{}': {}", dir.string(),
                                         account->name, std::strerror(errno)));
        }
      }
    }
  }

  void initdb() {
    detail::SpawnSpec spec;
    spec.argv = {(bindir / "initdb").string(),
                 "-D",
                 data.string(),
                 "-U",
                 opts.superuser,
                 "-A",
                 "trust",
                 "-E",
                 "UTF8",
                 "--locale=C",
                 "--no-sync"};
    spec.cwd = root;
    spec.output = initdb_log;
    spec.account = account ? &*account : nullptr;
    spec.death_signal = SIGKILL;
    const pid_t initdb_pid = detail::spawn(spec);
    detail::set_registered_pid(slot, initdb_pid);
    const auto status = detail::wait_for_exit(initdb_pid, 120s);
    detail::set_registered_pid(slot, 0);
    if (!status) {
      kill(initdb_pid, SIGKILL);
      detail::wait_for_exit(initdb_pid, 5s);
      throw ClusterError(with_tail("initdb did not finish within 120 s", initdb_log));
    }
    if (*status != 0) {
      throw ClusterError(with_tail(
          fmt::format("initdb failed ({})", detail::describe_wait_status(*status)), initdb_log));
    }
    std::ifstream(data / "PG_VERSION") >> major_version;
    write_file(data / "postgresql.conf", detail::postgresql_conf(opts, sockets), std::ios::app);
    if (opts.tls) detail::install_tls_files(*opts.tls, data, account);
    write_hba();
  }

  void write_hba() {
    write_file(data / "pg_hba.conf", detail::pg_hba_conf(opts.hba_lines, password_roles),
               std::ios::trunc);
  }

  // The primary's stopped data folder becomes ours, as the account that runs
  // the server, with the permissions PostgreSQL insists on (cp -a keeps them).
  void copy_data_of(const Impl& primary) {
    detail::SpawnSpec spec;
    spec.argv = {"/bin/cp", "-a", primary.data.string(), data.string()};
    spec.cwd = root;
    spec.output = root / "copy.log";
    spec.account = account ? &*account : nullptr;
    spec.death_signal = SIGKILL;
    const pid_t copy_pid = detail::spawn(spec);
    const auto status = detail::wait_for_exit(copy_pid, 120s);
    if (!status) {
      kill(copy_pid, SIGKILL);
      detail::wait_for_exit(copy_pid, 5s);
      throw ClusterError("copying the primary's data folder took more than 120 s");
    }
    if (*status != 0) {
      throw ClusterError(with_tail(fmt::format("copying the primary's data folder failed ({})",
                                               detail::describe_wait_status(*status)),
                                   root / "copy.log"));
    }
    // What pg_basebackup leaves out too: the primary's slots (a logical one
    // there would stand in the way of synchronizing it) and its pid files.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(data / "pg_replslot", ec)) {
      fs::remove_all(entry.path(), ec);
    }
    for (const char* name : {"postmaster.pid", "postmaster.opts"}) fs::remove(data / name, ec);
  }

  void write_standby_files(const StandbyOptions& standby, const Impl& primary) {
    const std::string primary_conninfo =
        primary.own_conninfo("postgres") +
        fmt::format(" application_name={}", detail::conninfo_value(standby.slot_name));
    write_file(data / "postgresql.conf", detail::standby_conf(standby, primary_conninfo, sockets),
               std::ios::app);
    const fs::path signal = data / "standby.signal";
    write_file(signal, "", std::ios::trunc);
    if (account && chown(signal.c_str(), account->uid, account->gid) != 0) {
      throw ClusterError(fmt::format("cannot hand {} to account '{}': {}", signal.string(),
                                     account->name, std::strerror(errno)));
    }
  }

  // Until the primary's physical slot is taken by the standby's walreceiver.
  void wait_until_streaming(const Impl& standby) const {
    detail::PgSession session(own_conninfo("postgres"));
    const std::string sql =
        fmt::format("SELECT active FROM pg_replication_slots WHERE slot_name = {}",
                    session.literal(standby.primary_slot));
    const auto deadline = std::chrono::steady_clock::now() + opts.start_timeout;
    while (session.query(sql).at(0).at(0) != "t") {
      if (std::chrono::steady_clock::now() >= deadline) {
        throw ClusterError(with_tail(
            fmt::format("the standby on port {} did not stream from its primary within {} s",
                        standby.port, opts.start_timeout.count()),
            standby.log));
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  // Starts the server and waits until it accepts connections. On the first
  // start a port taken between our probe and the server's bind is retried.
  void launch(bool first) {
    constexpr int kAttempts = 5;
    for (int attempt = 1;; ++attempt) {
      if (first) port = free_port();
      const auto log_start = size_or_zero(log);
      detail::SpawnSpec spec;
      spec.argv = {(bindir / "postgres").string(), "-D", data.string(), "-p", std::to_string(port)};
      spec.cwd = root;
      spec.output = log;
      spec.account = account ? &*account : nullptr;
      spec.death_signal = opts.die_with_parent ? SIGINT : 0;
      pid = detail::spawn(spec);
      detail::set_registered_pid(slot, pid);

      const std::string ping = own_conninfo("postgres") + " connect_timeout=5";
      const auto deadline = std::chrono::steady_clock::now() + opts.start_timeout;
      for (;;) {
        if (const auto status = detail::wait_for_exit(pid, 0ms)) {
          forget_pid();
          const std::string output = file_tail(log, 1000, log_start);
          if (first && attempt < kAttempts &&
              output.find("Address already in use") != std::string::npos) {
            break;  // next attempt, another port
          }
          throw ClusterError(
              with_tail(fmt::format("the PostgreSQL server exited during start-up ({}), port {}",
                                    detail::describe_wait_status(*status), port),
                        log, log_start));
        }
        if (postmaster_ready(data, pid) && PQping(ping.c_str()) == PQPING_OK) return;
        if (std::chrono::steady_clock::now() >= deadline) {
          kill_server();
          throw ClusterError(
              with_tail(fmt::format("the PostgreSQL server did not accept connections within {} s",
                                    opts.start_timeout.count()),
                        log, log_start));
        }
        std::this_thread::sleep_for(10ms);
      }
    }
  }

  void forget_pid() {
    pid = 0;
    detail::set_registered_pid(slot, 0);
  }

  // Escalates (first_signal, SIGQUIT, SIGKILL) until the server is gone.
  void kill_server(int first_signal = SIGQUIT, std::chrono::milliseconds patience = 5s) noexcept {
    if (pid <= 0) return;
    kill(pid, first_signal);
    if (!detail::wait_for_exit(pid, patience)) {
      kill(pid, SIGQUIT);
      if (!detail::wait_for_exit(pid, 5s)) {
        kill(pid, SIGKILL);
        detail::wait_for_exit(pid, 10s);
      }
    }
    forget_pid();
  }

  bool running() {
    if (pid <= 0) return false;
    if (detail::wait_for_exit(pid, 0ms)) {
      forget_pid();
      return false;
    }
    return true;
  }

  void stop(StopMode mode) {
    if (!running()) return;
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(opts.stop_timeout);
    kill(pid, stop_signal(mode));
    if (detail::wait_for_exit(pid, timeout)) {
      forget_pid();
      return;
    }
    kill_server(SIGQUIT, 5s);
    throw ClusterError(
        with_tail(fmt::format("the PostgreSQL server did not stop within {} s; it was killed",
                              opts.stop_timeout.count()),
                  log));
  }

  void teardown() noexcept {
    try {
      if (failed && !root.empty()) {
        std::fputs(with_tail(fmt::format("vil-pg: server log of the cluster on port {}", port), log)
                       .append("\n")
                       .c_str(),
                   stderr);
      }
      kill_server(SIGINT, 5s);
      const bool keep =
          opts.keep || keep_from_env() || ((failed || start_failed) && opts.keep_on_failure);
      if (!root.empty()) {
        if (keep) {
          std::error_code ec;
          fs::remove(root / detail::kMarkerName, ec);
          std::fprintf(stderr, "vil-pg: kept the cluster folder %s\n", root.c_str());
        } else if (!detail::remove_tree(root.c_str())) {
          std::fprintf(stderr, "vil-pg: could not remove all of %s\n", root.c_str());
        }
      }
    } catch (...) {
      // Teardown runs in destructors: report what we can, never throw.
    }
    detail::unregister_cluster(slot);
    slot = -1;
  }
};

ThrowawayCluster::ThrowawayCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ThrowawayCluster::ThrowawayCluster(ThrowawayCluster&&) noexcept = default;
ThrowawayCluster& ThrowawayCluster::operator=(ThrowawayCluster&&) noexcept = default;
ThrowawayCluster::~ThrowawayCluster() = default;

ThrowawayCluster::Impl& ThrowawayCluster::impl() const {
  if (!impl_) throw ClusterError("this ThrowawayCluster was moved from");
  return *impl_;
}

ThrowawayCluster ThrowawayCluster::start(ClusterOptions opts) {
  detail::check_object_name("superuser", opts.superuser);
  if (opts.start_timeout.count() <= 0 || opts.stop_timeout.count() <= 0) {
    throw ClusterError("start_timeout and stop_timeout must be positive");
  }
  auto impl = std::make_unique<Impl>();
  impl->opts = std::move(opts);
  // Checked before anything is made, so a bad setting costs no initdb.
  detail::postgresql_conf(impl->opts, "/");
  detail::pg_hba_conf(impl->opts.hba_lines, {});
  if (impl->opts.tls) detail::check_tls_files(*impl->opts.tls);
  impl->bindir = detail::find_server_bindir(impl->opts.server_version);
  impl->account = detail::server_account(impl->opts.os_user);
  try {
    impl->make_folder();
    impl->initdb();
    impl->launch(true);
  } catch (...) {
    impl->start_failed = true;
    throw;  // ~Impl removes what was made
  }
  return ThrowawayCluster(std::move(impl));
}

std::string ThrowawayCluster::conninfo(std::string_view dbname, std::string_view user) const {
  return impl().conninfo(dbname, user);
}
int ThrowawayCluster::port() const {
  return impl().port;
}
const std::string& ThrowawayCluster::superuser() const {
  return impl().opts.superuser;
}
const fs::path& ThrowawayCluster::root_dir() const {
  return impl().root;
}
const fs::path& ThrowawayCluster::data_dir() const {
  return impl().data;
}
const fs::path& ThrowawayCluster::socket_dir() const {
  return impl().sockets;
}
const fs::path& ThrowawayCluster::log_path() const {
  return impl().log;
}
const fs::path& ThrowawayCluster::bindir() const {
  return impl().bindir;
}

std::string ThrowawayCluster::log_tail(std::size_t lines) const {
  return file_tail(impl().log, lines);
}

std::uintmax_t ThrowawayCluster::log_size() const {
  return size_or_zero(impl().log);
}

std::string ThrowawayCluster::log_since(std::uintmax_t offset, std::size_t lines) const {
  return file_tail(impl().log, lines, offset);
}

bool ThrowawayCluster::running() const {
  return impl().running();
}
int ThrowawayCluster::server_pid() const {
  return impl().running() ? impl().pid : 0;
}

void ThrowawayCluster::stop(StopMode mode) {
  impl().stop(mode);
}

void ThrowawayCluster::start_again() {
  if (impl().running()) throw ClusterError("start_again: the server is already running");
  impl().launch(false);
}

void ThrowawayCluster::restart(StopMode mode) {
  stop(mode);
  start_again();
}

void ThrowawayCluster::execute(std::string_view sql, std::string_view dbname) const {
  detail::PgSession(impl().own_conninfo(dbname)).execute(sql);
}

std::vector<Row> ThrowawayCluster::query(std::string_view sql, std::string_view dbname) const {
  return detail::PgSession(impl().own_conninfo(dbname)).query(sql);
}

void ThrowawayCluster::create_database(std::string_view name) const {
  detail::check_object_name("database", name);
  detail::PgSession session(impl().own_conninfo("postgres"));
  // FILE_COPY (PostgreSQL 15's old default) copies template1's files after a
  // checkpoint: half the time of WAL_LOG, which writes all of them to WAL.
  session.execute(fmt::format("CREATE DATABASE {}{}", session.identifier(name),
                              impl().major_version >= 15 ? " STRATEGY = FILE_COPY" : ""));
}

void ThrowawayCluster::drop_database(std::string_view name) const {
  detail::check_object_name("database", name);
  detail::PgSession session(impl().own_conninfo("postgres"));
  const std::string literal = session.literal(name);
  // Walsenders holding the database's slots: DROP DATABASE drops inactive
  // slots, but refuses while one is in use.
  session.execute(
      fmt::format("SELECT pg_terminate_backend(active_pid, 10000) FROM pg_replication_slots "
                  "WHERE database = {} AND active_pid IS NOT NULL",
                  literal));
  const auto prepared =
      session.query(fmt::format("SELECT gid FROM pg_prepared_xacts WHERE database = {}", literal));
  if (!prepared.empty()) {
    detail::PgSession in_db(impl().own_conninfo(name));
    for (const auto& row : prepared) {
      in_db.execute(fmt::format("ROLLBACK PREPARED {}", in_db.literal(row.at(0).value_or(""))));
    }
  }
  session.execute(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", session.identifier(name)));
}

void ThrowawayCluster::create_role_with_password(std::string_view name, std::string_view password,
                                                 RoleOptions role) {
  detail::check_object_name("role", name);
  if (password.empty()) throw ClusterError("create_role_with_password: empty password");
  {
    detail::PgSession session(impl().own_conninfo("postgres"));
    session.execute("SET password_encryption = 'scram-sha-256'");
    // The statement holds the password: its errors must not quote it.
    session.execute_secret(
        fmt::format("CREATE ROLE {} LOGIN {} {} PASSWORD {}", session.identifier(name),
                    role.superuser ? "SUPERUSER" : "NOSUPERUSER",
                    role.replication ? "REPLICATION" : "NOREPLICATION", session.literal(password)));
    impl().password_roles.emplace_back(name);
    impl().write_hba();
    session.execute("SELECT pg_reload_conf()");
  }
  // The postmaster rereads pg_hba.conf when it gets to the SIGHUP: wait until
  // a connection of the role without a password is asked for one.
  const std::string probe =
      impl().own_conninfo("postgres", name) + " password='' passfile=/dev/null connect_timeout=5";
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    PGconn* conn = PQconnectdb(probe.c_str());
    const bool asked = PQstatus(conn) != CONNECTION_OK && PQconnectionNeedsPassword(conn);
    PQfinish(conn);
    if (asked) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw ClusterError(with_tail(
          fmt::format("the server did not start asking role '{}' for a password within 30 s "
                      "after reloading pg_hba.conf",
                      name),
          impl().log));
    }
    std::this_thread::sleep_for(10ms);
  }
}

ThrowawayCluster ThrowawayCluster::make_standby(StandbyOptions standby) {
  Impl& primary = impl();
  if (!primary.running()) throw ClusterError("make_standby: the primary is not running");
  if (standby.sync_slots && primary.major_version < 17) {
    throw ClusterError(fmt::format(
        "make_standby: slot synchronization needs PostgreSQL 17 or later; the primary is {}",
        primary.major_version));
  }
  if (standby.slot_name.empty()) standby.slot_name = standby_slot_name();
  check_slot_name(standby.slot_name);
  auto impl = std::make_unique<Impl>();
  impl->opts = primary.opts;
  impl->bindir = primary.bindir;
  impl->account = primary.account;
  impl->major_version = primary.major_version;
  impl->password_roles = primary.password_roles;
  impl->primary_slot = standby.slot_name;
  // Reserved now, so the WAL from the copy's checkpoint on stays.
  execute(fmt::format("SELECT pg_create_physical_replication_slot('{}', true)", standby.slot_name));
  try {
    impl->make_folder();
    primary.stop(StopMode::Fast);
    try {
      impl->copy_data_of(primary);
    } catch (...) {
      primary.launch(false);
      throw;
    }
    if (standby.sync_slots) {
      // Only now, so the copy does not have it: on the promoted standby it
      // would name a slot that is not there and hold back every failover slot.
      write_file(primary.data / "postgresql.conf",
                 fmt::format("\nsynchronized_standby_slots = '{}'\n", standby.slot_name),
                 std::ios::app);
    }
    primary.launch(false);
    impl->write_standby_files(standby, primary);
    impl->launch(true);
    primary.wait_until_streaming(*impl);
  } catch (...) {
    impl->start_failed = true;
    throw;  // ~Impl removes what was made
  }
  return ThrowawayCluster(std::move(impl));
}

void ThrowawayCluster::promote() {
  Impl& self = impl();
  const auto seconds = self.opts.start_timeout.count();
  const auto rows = query(fmt::format("SELECT pg_promote(true, {})", seconds));
  if (rows.at(0).at(0) != "t") {
    throw ClusterError(with_tail(
        fmt::format("the standby on port {} was not promoted within {} s", self.port, seconds),
        self.log));
  }
}

bool ThrowawayCluster::in_recovery() const {
  return query("SELECT pg_is_in_recovery()").at(0).at(0) == "t";
}

const std::string& ThrowawayCluster::primary_slot_name() const {
  return impl().primary_slot;
}

void ThrowawayCluster::mark_failed() {
  impl().failed = true;
  if (impl().opts.keep_on_failure) detail::set_registered_keep(impl().slot, true);
}

}  // namespace vil::testing
