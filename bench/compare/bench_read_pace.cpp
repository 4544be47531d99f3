// bench_read_pace: how a reader's timing moves the walsender's CPU. A bare
// logical replication reader (libpq, no decoding) that takes the stream of
// one slot up to an end LSN in one of three ways, then prints the
// walsender's CPU (/proc/PID/stat of PQbackendPID), its own and the wall
// time. bench/compare/read_pace.sh runs it; bench/compare/README.md has the
// findings ("The walsender's pace").
//
//   bench_read_pace --conn C --slot S --publication P --end-lsn X/Y
//                   --mode poll|lowat|timer [--rcvbuf BYTES] [--wait-us N]
//
//   poll   wait in poll() for the socket, read all there is (a reader that
//          keeps up, as pg_recvlogical does)
//   lowat  SO_RCVLOWAT 64 kB and poll() at most --wait-us (vil-cdc's bulk
//          mode for a remote server)
//   timer  sleep --wait-us between reads, never wait for the socket
//          (vil-cdc's reading on the timer for a server on this host)
//   --rcvbuf sets SO_RCVBUF (0: the kernel's autotuned buffer)

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <libpq-fe.h>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string conn;
  std::string slot;
  std::string publication;
  uint64_t end_lsn = 0;
  std::string mode = "poll";
  int rcvbuf = 0;
  int wait_us = 0;
};

uint64_t read_be64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void write_be64(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}

// utime + stime of `pid`, in seconds.
double process_cpu_seconds(int pid) {
  std::ifstream file(fmt::format("/proc/{}/stat", pid));
  std::string line;
  std::getline(file, line);
  // Fields after the command name (which may hold spaces): state is the 3rd.
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  long ticks = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n == 14 || n == 15) ticks += std::stol(field);
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const std::string value = argv[i + 1];
    if (name == "--conn") {
      o.conn = value;
    } else if (name == "--slot") {
      o.slot = value;
    } else if (name == "--publication") {
      o.publication = value;
    } else if (name == "--end-lsn") {
      unsigned hi = 0;
      unsigned lo = 0;
      if (std::sscanf(value.c_str(), "%X/%X", &hi, &lo) != 2) return false;
      o.end_lsn = (static_cast<uint64_t>(hi) << 32) | lo;
    } else if (name == "--mode") {
      o.mode = value;
    } else if (name == "--rcvbuf") {
      o.rcvbuf = std::stoi(value);
    } else if (name == "--wait-us") {
      o.wait_us = std::stoi(value);
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && !o.conn.empty() && !o.slot.empty() && !o.publication.empty() &&
         o.end_lsn != 0 && (o.mode == "poll" || o.mode == "lowat" || o.mode == "timer");
}

// Answers a keepalive that asks for a reply (the server would end the
// session after wal_sender_timeout otherwise) with the last position seen.
void reply(PGconn* conn, uint64_t lsn) {
  char update[34] = {'r'};
  write_be64(update + 1, lsn);
  write_be64(update + 9, lsn);
  write_be64(update + 17, lsn);
  PQputCopyData(conn, update, sizeof update);
  PQflush(conn);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: bench_read_pace --conn C --slot S --publication P --end-lsn X/Y "
                 "--mode poll|lowat|timer [--rcvbuf BYTES] [--wait-us N]\n");
    return 2;
  }
  PGconn* conn = PQconnectdb((o.conn + " replication=database").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::fprintf(stderr, "bench_read_pace: %s", PQerrorMessage(conn));
    return 1;
  }
  const std::string command = fmt::format(
      "START_REPLICATION SLOT {} LOGICAL 0/0 (proto_version '1', publication_names '{}')", o.slot,
      o.publication);
  PGresult* started = PQexec(conn, command.c_str());
  if (PQresultStatus(started) != PGRES_COPY_BOTH) {
    std::fprintf(stderr, "bench_read_pace: %s", PQerrorMessage(conn));
    return 1;
  }
  PQclear(started);
  PQsetnonblocking(conn, 1);
  const int fd = PQsocket(conn);
  if (o.rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.rcvbuf, sizeof o.rcvbuf);
  if (o.mode == "lowat") {
    const int low_water = 64 << 10;
    setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &low_water, sizeof low_water);
  }

  const int walsender = PQbackendPID(conn);
  const double walsender_before = process_cpu_seconds(walsender);
  const auto start = Clock::now();
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t wakes = 0;
  uint64_t last = 0;
  bool done = false;
  while (!done) {
    if (o.mode == "timer") {
      std::this_thread::sleep_for(std::chrono::microseconds(o.wait_us));
    } else {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, o.mode == "lowat" ? std::max(1, o.wait_us / 1000) : -1);
    }
    ++wakes;
    // Read until a read brings nothing: what the server queued meanwhile
    // arrives as the window opens.
    for (bool got = true; got && !done;) {
      if (PQconsumeInput(conn) == 0) {
        std::fprintf(stderr, "bench_read_pace: %s", PQerrorMessage(conn));
        return 1;
      }
      got = false;
      char* frame = nullptr;
      int n = 0;
      while ((n = PQgetCopyData(conn, &frame, 1)) > 0) {
        got = true;
        ++messages;
        bytes += static_cast<uint64_t>(n);
        if (frame[0] == 'w' && n >= 25) {
          last = read_be64(frame + 1);
          if (last >= o.end_lsn) done = true;
        } else if (frame[0] == 'k' && n >= 18 && frame[17] != 0) {
          reply(conn, last);
        }
        PQfreemem(frame);
      }
      if (n < 0) done = true;
    }
  }
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const double walsender_cpu = process_cpu_seconds(walsender) - walsender_before;
  std::printf(
      "mode=%s rcvbuf=%d wait_us=%d wall_s=%.2f walsender_cpu_s=%.2f reader_cpu_s=%.2f "
      "messages=%" PRIu64 " mb=%.1f wakes=%" PRIu64 "\n",
      o.mode.c_str(), o.rcvbuf, o.wait_us, wall, walsender_cpu, own_cpu_seconds(), messages,
      static_cast<double>(bytes) / 1e6, wakes);
  PQfinish(conn);
  return 0;
}
