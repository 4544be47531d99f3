#!/usr/bin/python3
"""driver: the side-by-side benchmark's body, run by run.sh inside pg-throwaway.

For each workload it creates one slot per consumer before writing, so every
consumer reads the identical WAL; writes the workload; finds the commit LSN of
its last transaction (the end LSN); then runs each consumer from its own slot
to that LSN, one after another, under GNU time. Then the latency run: a
steady rate of single-row transactions while one consumer at a time streams
live. Writes everything to one JSON file.

The connection comes from pg-throwaway's environment (VIL_PG_CONNINFO, PG*).
"""

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time

import psycopg2

from walsender_probe import MODES as PROBE_MODES, WalsenderProbe

PUBLICATION = "bench"
PROTOCOL_VERSION = "1"  # every pgoutput consumer gets the same stream

# Consumers in the order they run. "floor" is the reference for ratios.
CONSUMERS = [
    ("floor", "pg_recvlogical (pgoutput)"),
    ("wal2json", "pg_recvlogical (wal2json)"),
    ("vil_library", "vil-cdc library (views)"),
    ("vil_typed", "vil-cdc library (typed values)"),
    ("vil_cli", "vil-cdc stream --format jsonl"),
    ("vil_http", "vil-cdc stream --sink http (a local receiver)"),
    ("vil_kafka", "vil-cdc stream --sink kafka (librdkafka's mock cluster)"),
    ("vil_nats", "vil-cdc stream --sink nats (a local nats-server, JetStream)"),
    ("psycopg2", "psycopg2 consumer"),
    ("node", "node pg-logical-replication"),
    ("node_ack_commit", "node pg-logical-replication, ack per commit"),
]
LATENCY_CONSUMERS = ["vil_library", "psycopg2", "node", "node_ack_commit"]
# Sinks that deliver to a broker, run beside the file sink (vil_cli) on the
# workloads --broker-workloads names; each broker is a local process the
# driver starts (Brokers).
BROKER_CONSUMERS = ["vil_http", "vil_kafka", "vil_nats"]

COLUMNS = "id int PRIMARY KEY, t text, n numeric, ts timestamptz, b bool"


def row_from(g):
    """The five columns of row number `g` (an SQL expression)."""
    return (
        f"{g}, 'row ' || {g} || ' ' || md5({g}::text), {g} / 100.0, "
        f"timestamptz '2024-01-01 00:00:00+00' + {g} * interval '1 second', {g} % 2 = 0"
    )


ROW_FROM_G = row_from("g")


def log(message):
    print("[driver %s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


class Database:
    def __init__(self, dsn):
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True

    def execute(self, sql, params=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)

    def value(self, sql, params=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            row = cur.fetchone()
            return None if row is None else row[0]


# ---------------------------------------------------------------- workloads


class Workload:
    """bulk: statements run in autocommit (DO blocks commit inside);
    last: the body of the final transaction, run by the driver so that it
    can find that transaction's commit LSN."""

    def __init__(self, key, title, rows, transactions, prepare, bulk, last):
        self.key = key
        self.title = title
        self.rows = rows
        self.transactions = transactions
        self.prepare = prepare
        self.bulk = bulk
        self.last = last


def make_workloads(scale):
    n1 = int(1_000_000 * scale)
    n2 = int(200_000 * scale)
    n3 = int(1_000_000 * scale)
    n4 = int(20_000 * scale)
    batch = 1000
    w = []

    t1 = n1 // batch
    w.append(
        Workload(
            "W1",
            "%s inserts, %s rows a transaction" % (f"{n1:,}", f"{batch:,}"),
            n1,
            t1,
            ["TRUNCATE w1"],
            [
                f"""DO $$ BEGIN FOR i IN 0..{t1 - 2} LOOP
                     INSERT INTO w1 SELECT {ROW_FROM_G}
                       FROM generate_series(i * {batch} + 1, (i + 1) * {batch}) g;
                     COMMIT;
                   END LOOP; END $$"""
            ],
            [f"INSERT INTO w1 SELECT {ROW_FROM_G} FROM generate_series({(t1 - 1) * batch + 1}, {n1}) g"],
        )
    )

    # Row i of W2: i % 3 == 0 inserts a new id, 1 updates seeded row i, 2
    # deletes seeded row i; each statement changes exactly one row.
    w.append(
        Workload(
            "W2",
            "%s single-row transactions (insert, update, delete)" % f"{n2:,}",
            n2,
            n2,
            ["TRUNCATE w2", f"INSERT INTO w2 SELECT {ROW_FROM_G} FROM generate_series(1, {n2}) g"],
            [
                f"""DO $$ BEGIN FOR i IN 1..{n2 - 1} LOOP
                     CASE i % 3
                       WHEN 0 THEN INSERT INTO w2 VALUES ({row_from(f"({n2} + i)")});
                       WHEN 1 THEN UPDATE w2 SET t = 'updated ' || i, n = n + 1 WHERE id = i;
                       ELSE DELETE FROM w2 WHERE id = i;
                     END CASE;
                     COMMIT;
                   END LOOP; END $$"""
            ],
            # n2 itself: i % 3 decides, as in the loop.
            [
                {
                    0: f"INSERT INTO w2 SELECT {ROW_FROM_G} FROM generate_series({2 * n2}, {2 * n2}) g",
                    1: f"UPDATE w2 SET t = 'updated ' || {n2}, n = n + 1 WHERE id = {n2}",
                    2: f"DELETE FROM w2 WHERE id = {n2}",
                }[n2 % 3]
            ],
        )
    )

    w.append(
        Workload(
            "W3",
            "one transaction of %s rows" % f"{n3:,}",
            n3,
            1,
            ["TRUNCATE w3"],
            [],
            [f"INSERT INTO w3 SELECT {ROW_FROM_G} FROM generate_series(1, {n3}) g"],
        )
    )

    # 8,192 hex digits of md5: pglz finds nothing to compress, and STORAGE
    # EXTERNAL keeps it from trying; every value lives in the TOAST table.
    payload = "(SELECT string_agg(md5(g::text || '-' || k::text), '') FROM generate_series(1, 256) k)"
    t4 = max(1, n4 // batch)
    w.append(
        Workload(
            "W4",
            "%s rows with an 8 kB TOASTed text, then %s updates leaving it unchanged"
            % (f"{n4:,}", f"{n4:,}"),
            2 * n4,
            2 * t4,
            ["TRUNCATE w4"],
            [
                f"""DO $$ BEGIN FOR i IN 0..{t4 - 1} LOOP
                     INSERT INTO w4 SELECT g, 0, {payload}
                       FROM generate_series(i * {batch} + 1, least((i + 1) * {batch}, {n4})) g;
                     COMMIT;
                   END LOOP;
                   FOR i IN 0..{t4 - 2} LOOP
                     UPDATE w4 SET version = version + 1
                       WHERE id BETWEEN i * {batch} + 1 AND least((i + 1) * {batch}, {n4});
                     COMMIT;
                   END LOOP; END $$"""
            ],
            [f"UPDATE w4 SET version = version + 1 WHERE id BETWEEN {(t4 - 1) * batch + 1} AND {n4}"],
        )
    )
    return w


def create_schema(db):
    for table in ("w1", "w2", "w3", "latency_rows"):
        db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({COLUMNS})")
    db.execute("CREATE TABLE IF NOT EXISTS w4 (id int PRIMARY KEY, version int, payload text)")
    db.execute("ALTER TABLE w4 ALTER COLUMN payload SET STORAGE EXTERNAL")
    db.execute("CREATE TABLE IF NOT EXISTS latency_end (id int)")
    db.execute(f"DROP PUBLICATION IF EXISTS {PUBLICATION}")
    db.execute(f"CREATE PUBLICATION {PUBLICATION} FOR ALL TABLES")
    db.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")


def write_workload(db, workload):
    """Runs the workload; returns (seconds, end LSN as text)."""
    started = time.monotonic()
    for sql in workload.bulk:
        db.execute(sql)
    with db.conn.cursor() as cur:
        db.conn.autocommit = False
        for sql in workload.last:
            cur.execute(sql)
        cur.execute("SELECT txid_current()::text::bigint, pg_current_wal_insert_lsn()")
        xid, before = cur.fetchone()
        db.conn.commit()
        db.conn.autocommit = True
    seconds = time.monotonic() - started
    # The commit record of that transaction: its start is the commit LSN.
    end = db.value(
        """SELECT start_lsn::text FROM pg_get_wal_records_info(%s, pg_current_wal_flush_lsn())
            WHERE resource_manager = 'Transaction' AND record_type LIKE 'COMMIT%%'
              AND xid = %s::xid
            ORDER BY start_lsn LIMIT 1""",
        (before, str(xid & 0xFFFFFFFF)),
    )
    if end is None:
        raise RuntimeError(f"{workload.key}: no commit record for xid {xid} after {before}")
    return seconds, end


# ---------------------------------------------------------------- consumers


def use_unix_socket():
    """Points VIL_PG_CONNINFO and PGHOST (the node peer's) at the server's
    socket folder, so that every consumer, writer and psql connects through
    it."""
    conninfo = os.environ["VIL_PG_CONNINFO"]
    folder = subprocess.run([os.path.join(os.environ["VIL_PG_BINDIR"], "psql"), "-X", "-A", "-t", "-d", conninfo,
                             "-c", "SHOW unix_socket_directories"],
                            check=True, capture_output=True, text=True).stdout.strip().split(",")[0]
    os.environ["VIL_PG_CONNINFO"] = re.sub(r"host=\S+", f"host={folder}", conninfo)
    os.environ["PGHOST"] = folder


class Environment:
    def __init__(self, args):
        self.conninfo = os.environ["VIL_PG_CONNINFO"]
        self.bindir = os.environ["VIL_PG_BINDIR"]
        self.datadir = os.environ["VIL_PG_DATADIR"]
        self.build = args.build_dir
        self.node_modules = args.node_modules
        self.here = os.path.dirname(os.path.abspath(__file__))
        self.work = args.work_dir
        self.wrap = args.wrap
        self.probe = args.walsender_probe
        self.server_port = None  # set by main() when probing
        self.brokers = None  # Brokers, while broker sinks run

    def slot_plugin(self, consumer):
        return "wal2json" if consumer == "wal2json" else "pgoutput"

    def command(self, consumer, slot, end_lsn=None, stop_table=None, latency_out=None):
        recvlogical = os.path.join(self.bindir, "pg_recvlogical")
        if consumer == "floor":
            return [recvlogical, "-d", self.conninfo, "--slot", slot, "--start", "--no-loop",
                    "-o", f"proto_version={PROTOCOL_VERSION}", "-o", f"publication_names={PUBLICATION}",
                    "--endpos", end_lsn, "-f", "/dev/null"]
        if consumer == "wal2json":
            return [recvlogical, "-d", self.conninfo, "--slot", slot, "--start", "--no-loop",
                    "-o", "format-version=2", "--endpos", end_lsn, "-f", "/dev/null"]
        if consumer in ("vil_library", "vil_typed"):
            cmd = [os.path.join(self.build, "bench/compare/bench_vil_library"), "--conn", self.conninfo,
                   "--slot", slot, "--publication", PUBLICATION, "--protocol-version", PROTOCOL_VERSION]
            if consumer == "vil_typed":
                cmd.append("--typed")
        elif consumer == "vil_cli" or consumer in BROKER_CONSUMERS:
            cmd = [os.path.join(self.build, "tools/vil-cdc/vil-cdc"), "stream", "--conn", self.conninfo,
                   "--slot", slot, "--publication", PUBLICATION, "--protocol-version", PROTOCOL_VERSION,
                   "--format", "jsonl", "--quiet"]
            if consumer == "vil_cli":
                cmd += ["--output", "/dev/null"]
            else:
                cmd += self.brokers.sink_args(consumer)
            if end_lsn:
                cmd += ["--end-lsn", end_lsn]
            return cmd
        elif consumer == "psycopg2":
            cmd = ["/usr/bin/python3", os.path.join(self.here, "psycopg2_consumer.py"), "--dsn", self.conninfo,
                   "--slot", slot, "--publication", PUBLICATION, "--protocol-version", PROTOCOL_VERSION]
        elif consumer in ("node", "node_ack_commit"):
            cmd = ["node", os.path.join(self.here, "node_consumer.mjs"), "--slot", slot,
                   "--publication", PUBLICATION, "--protocol-version", PROTOCOL_VERSION]
            if consumer == "node_ack_commit":
                cmd += ["--ack", "commit"]
        else:
            raise ValueError(consumer)
        if end_lsn:
            cmd += ["--end-lsn", end_lsn]
        if stop_table:
            cmd += ["--stop-table", stop_table]
        if latency_out:
            cmd += ["--latency-out", latency_out]
        return cmd

    def child_env(self):
        env = dict(os.environ)
        env["NODE_PATH"] = self.node_modules
        return env

    def postmaster_pid(self):
        with open(os.path.join(self.datadir, "postmaster.pid")) as f:
            return int(f.readline().strip())

    def server_children_cpu(self):
        """CPU seconds of the postmaster's exited children (walsenders among
        them): /proc/PID/stat cutime + cstime."""
        pid = self.postmaster_pid()
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[13]) + int(fields[14])) / ticks  # fields 16 and 17 of stat


GNU_TIME_FIELDS = {
    "User time (seconds)": "user_s",
    "System time (seconds)": "sys_s",
    "Maximum resident set size (kbytes)": "max_rss_kb",
}


def parse_gnu_time(path):
    out = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            if key in GNU_TIME_FIELDS:
                out[GNU_TIME_FIELDS[key]] = float(value)
    return out


def wait_slot_inactive(db, slot, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not db.value("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)):
            time.sleep(0.1)  # the postmaster reaps the walsender
            return
        time.sleep(0.02)
    raise RuntimeError(f"slot {slot} still active after {timeout}s")


def process_cpu(pid):
    """CPU seconds a running process has used: /proc/PID/stat utime + stime."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Brokers:
    """The destinations of the broker sinks, each a local process: a webhook
    (bench_http_receiver), librdkafka's mock cluster (bench_kafka_mock) and
    nats-server with JetStream on a file store in the work folder."""

    NATS_STREAM = "BENCH"
    PREFIX = "bench"

    def __init__(self, env, consumers):
        self.procs = {}
        self.address = {}
        for consumer in consumers:
            if consumer == "vil_http":
                self.start(consumer, [os.path.join(env.build, "bench/compare/bench_http_receiver")])
            elif consumer == "vil_kafka":
                self.start(consumer, [os.path.join(env.build, "bench/compare/bench_kafka_mock")])
            elif consumer == "vil_nats":
                store = os.path.join(env.work, "nats-store")
                os.makedirs(store, exist_ok=True)
                port = free_port()
                server = shutil.which("nats-server") or "/usr/sbin/nats-server"
                self.procs[consumer] = subprocess.Popen(
                    [server, "-js", "-sd", store, "-a", "127.0.0.1", "-p", str(port)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                self.address[consumer] = f"nats://127.0.0.1:{port}"
                wait_port(port)

    def start(self, consumer, cmd):
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs[consumer] = proc
        self.address[consumer] = proc.stdout.readline().strip()
        if not self.address[consumer]:
            raise RuntimeError(f"{cmd[0]} did not start")

    def sink_args(self, consumer):
        if consumer == "vil_http":
            return ["--sink", "http", "--http-url", self.address[consumer]]
        if consumer == "vil_kafka":
            return ["--sink", "kafka", "--kafka-brokers", self.address[consumer],
                    "--topic-prefix", self.PREFIX]
        return ["--sink", "nats", "--nats-url", self.address[consumer], "--nats-stream",
                self.NATS_STREAM, "--topic-prefix", self.PREFIX]

    def cpu(self, consumer):
        proc = self.procs.get(consumer)
        return process_cpu(proc.pid) if proc else 0.0

    def stop(self):
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def run_consumer(db, env, consumer, slot, end_lsn, timeout):
    time_out = os.path.join(env.work, f"time-{slot}.txt")
    cmd = ["/usr/bin/time", "-v", "-o", time_out] + env.command(consumer, slot, end_lsn=end_lsn)
    if env.wrap:
        cmd = shlex.split(env.wrap.replace("{slot}", slot)) + cmd
    probe = None
    if env.probe:
        probe = WalsenderProbe(env.probe, env.postmaster_pid(), env.server_port,
                               os.path.join(env.work, f"walsender-{slot}"))
        probe.start()
    server_before = env.server_children_cpu()
    broker_before = env.brokers.cpu(consumer) if env.brokers else 0.0
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env.child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout)
    except BaseException:
        if probe:
            probe.stop()
        raise
    wall = time.monotonic() - started
    broker_cpu = (env.brokers.cpu(consumer) if env.brokers else 0.0) - broker_before
    if proc.returncode != 0:
        raise RuntimeError(f"{consumer} failed ({proc.returncode}): {' '.join(map(shlex.quote, cmd))}\n"
                           f"{proc.stderr[-3000:]}")
    wait_slot_inactive(db, slot)
    server_cpu = env.server_children_cpu() - server_before
    result = {"wall_s": wall, "server_cpu_s": server_cpu}
    if probe:
        result["walsender"] = probe.stop()
    if consumer in BROKER_CONSUMERS:
        result["broker_cpu_s"] = broker_cpu
    result.update(parse_gnu_time(time_out))
    result["cpu_s"] = result["user_s"] + result["sys_s"]
    summary = proc.stdout.strip().splitlines()
    if summary:
        result["summary"] = json.loads(summary[-1])
    result["confirmed_flush_lsn"] = db.value(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (slot,))
    return result


def lsn_value(text):
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def run_workload(db, env, workload, consumers, timeout, broker_workloads=()):
    if workload.key not in broker_workloads:
        consumers = [c for c in consumers if c not in BROKER_CONSUMERS]
    log(f"{workload.key}: preparing")
    for sql in workload.prepare:
        db.execute(sql)
    db.execute("CHECKPOINT")
    slots = {}
    for consumer in consumers:
        slot = f"bench_{workload.key.lower()}_{consumer}"
        db.execute("SELECT pg_create_logical_replication_slot(%s, %s)", (slot, env.slot_plugin(consumer)))
        slots[consumer] = slot
    start_lsn = db.value("SELECT pg_current_wal_insert_lsn()::text")
    log(f"{workload.key}: writing {workload.title}")
    write_s, end_lsn = write_workload(db, workload)
    wal_bytes = lsn_value(end_lsn) - lsn_value(start_lsn)
    log(f"{workload.key}: wrote in {write_s:.1f}s, {wal_bytes / 1e6:.0f} MB of WAL, end LSN {end_lsn}")
    results = {}
    for consumer in consumers:
        r = run_consumer(db, env, consumer, slots[consumer], end_lsn, timeout)
        r["rows_per_s"] = workload.rows / r["wall_s"]
        rows_seen = r.get("summary", {}).get("rows")
        if rows_seen is not None and rows_seen != workload.rows:
            raise RuntimeError(f"{workload.key}: {consumer} saw {rows_seen} rows, expected {workload.rows}")
        results[consumer] = r
        log(f"{workload.key}: {consumer:12s} wall {r['wall_s']:7.2f}s  cpu {r['cpu_s']:7.2f}s  "
            f"server {r['server_cpu_s']:6.2f}s  rss {r['max_rss_kb'] / 1024:6.1f} MB")
        db.execute("SELECT pg_drop_replication_slot(%s)", (slots[consumer],))
    return {
        "key": workload.key,
        "title": workload.title,
        "rows": workload.rows,
        "transactions": workload.transactions,
        "write_s": write_s,
        "wal_bytes": wal_bytes,
        "end_lsn": end_lsn,
        "consumers": results,
    }


# ---------------------------------------------------------------- snapshot

# Readers of one table's existing rows, in the order they run. "copy" is the
# single-connection floor.
SNAPSHOT_CONSUMERS = [
    ("copy", "psql \\copy to /dev/null (one connection)"),
    ("pg_dump", "pg_dump --data-only -t"),
    ("vil_w1", "vil-cdc stream --snapshot only, 1 worker"),
    ("vil_w2", "vil-cdc stream --snapshot only, 2 workers"),
    ("vil_w4", "vil-cdc stream --snapshot only, 4 workers"),
]
SNAPSHOT_TABLE = "snap_t"
SNAPSHOT_PUBLICATION = "snap_pub"


def snapshot_command(env, consumer):
    if consumer == "copy":
        return [os.path.join(env.bindir, "psql"), "-X", "-q", "-d", env.conninfo, "-c",
                f"\\copy {SNAPSHOT_TABLE} to '/dev/null'"]
    if consumer == "pg_dump":
        return [os.path.join(env.bindir, "pg_dump"), "--data-only", "-t", SNAPSHOT_TABLE,
                "-f", "/dev/null", "-d", env.conninfo]
    workers = consumer.removeprefix("vil_w")
    return [os.path.join(env.build, "tools/vil-cdc/vil-cdc"), "stream", "--conn", env.conninfo,
            "--publication", SNAPSHOT_PUBLICATION, "--snapshot", "only", "--snapshot-workers",
            workers, "--format", "jsonl", "--output", "/dev/null", "--quiet"]


def run_snapshot(db, env, rows, timeout):
    """Every reader reads the same table of `rows` rows (five columns) whole."""
    log(f"snapshot: writing {rows:,} rows")
    db.execute(f"DROP TABLE IF EXISTS {SNAPSHOT_TABLE}")
    db.execute(f"CREATE TABLE {SNAPSHOT_TABLE} ({COLUMNS})")
    db.execute(f"INSERT INTO {SNAPSHOT_TABLE} SELECT {ROW_FROM_G} FROM generate_series(1, {rows}) AS g")
    db.execute(f"VACUUM ANALYZE {SNAPSHOT_TABLE}")
    db.execute(f"DROP PUBLICATION IF EXISTS {SNAPSHOT_PUBLICATION}")
    db.execute(f"CREATE PUBLICATION {SNAPSHOT_PUBLICATION} FOR TABLE {SNAPSHOT_TABLE}")
    table_bytes = db.value(f"SELECT pg_table_size('{SNAPSHOT_TABLE}')")
    results = {}
    for consumer, _ in SNAPSHOT_CONSUMERS:
        time_out = os.path.join(env.work, f"time-snapshot-{consumer}.txt")
        cmd = ["/usr/bin/time", "-v", "-o", time_out] + snapshot_command(env, consumer)
        server_before = env.server_children_cpu()
        started = time.monotonic()
        proc = subprocess.run(cmd, env=env.child_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)
        wall = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError(f"snapshot: {consumer} failed ({proc.returncode}): "
                               f"{' '.join(map(shlex.quote, cmd))}\n{proc.stderr[-3000:]}")
        time.sleep(0.1)  # the postmaster reaps the backends
        r = {"wall_s": wall, "server_cpu_s": env.server_children_cpu() - server_before}
        r.update(parse_gnu_time(time_out))
        r["cpu_s"] = r["user_s"] + r["sys_s"]
        r["rows_per_s"] = rows / wall
        results[consumer] = r
        log(f"snapshot: {consumer:8s} wall {wall:7.2f}s  cpu {r['cpu_s']:7.2f}s  "
            f"server {r['server_cpu_s']:6.2f}s  rss {r['max_rss_kb'] / 1024:6.1f} MB")
    db.execute(f"DROP PUBLICATION {SNAPSHOT_PUBLICATION}")
    db.execute(f"DROP TABLE {SNAPSHOT_TABLE}")
    return {"rows": rows, "table_bytes": table_bytes, "titles": dict(SNAPSHOT_CONSUMERS),
            "consumers": results}


# ---------------------------------------------------------------- latency


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * (len(sorted_values) - 1) + 0.5))]


def run_latency(db, env, consumer, rate, seconds):
    db.execute("TRUNCATE latency_rows, latency_end")
    slot = f"bench_latency_{consumer}"
    db.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
    latency_out = os.path.join(env.work, f"latency-{consumer}.txt")
    time_out = os.path.join(env.work, f"time-{slot}.txt")
    cmd = ["/usr/bin/time", "-v", "-o", time_out] + env.command(
        consumer, slot, stop_table="latency_end", latency_out=latency_out)
    proc = subprocess.Popen(cmd, env=env.child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not db.value("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"latency: {consumer} did not start streaming: {proc.stderr.read()[-2000:]}")
            time.sleep(0.05)
        time.sleep(0.5)  # the consumer is past its start-up
        writer = subprocess.run(
            [os.path.join(env.build, "bench/compare/bench_rate_writer"), "--conn", env.conninfo,
             "--rate", str(rate), "--seconds", str(seconds), "--table", "latency_rows",
             "--stop-table", "latency_end"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
        out, err = proc.communicate(timeout=seconds + 120)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"latency: {consumer} failed ({proc.returncode}): {err[-2000:]}")
    wait_slot_inactive(db, slot)
    db.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    with open(latency_out) as f:
        values = sorted(int(line) for line in f if line.strip())
    usage = parse_gnu_time(time_out)
    result = {
        "writer": json.loads(writer.stdout.strip().splitlines()[-1]),
        "samples": len(values),
        "p50_us": percentile(values, 0.50),
        "p99_us": percentile(values, 0.99),
        "max_us": values[-1] if values else None,
        "cpu_s": usage.get("user_s", 0) + usage.get("sys_s", 0),
        "max_rss_kb": usage.get("max_rss_kb"),
        "summary": json.loads(out.strip().splitlines()[-1]),
    }
    log(f"latency: {consumer:12s} p50 {result['p50_us']} us  p99 {result['p99_us']} us  "
        f"max {result['max_us']} us  ({result['samples']} rows, writer {result['writer']['rate']:.0f} tx/s)")
    return result


# ---------------------------------------------------------------- machine


def command_output(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_description(db, env):
    cpu = ""
    for line in command_output(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    node_pkg = os.path.join(env.node_modules, "pg-logical-replication", "package.json")
    with open(node_pkg) as f:
        node_lib = json.load(f)["version"]
    with open(os.path.join(env.node_modules, "pg", "package.json")) as f:
        node_pg = json.load(f)["version"]
    settings = {}
    for name in ("fsync", "synchronous_commit", "full_page_writes", "wal_level", "shared_buffers",
                 "logical_decoding_work_mem", "autovacuum", "max_wal_size", "wal_sender_timeout"):
        settings[name] = db.value(f"SHOW {name}")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": command_output(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "postgresql": db.value("SELECT version()"),
        "settings": settings,
        "pg_recvlogical": command_output([os.path.join(env.bindir, "pg_recvlogical"), "--version"]),
        "wal2json": command_output(["dpkg-query", "-W", "-f=${Version}", "postgresql-15-wal2json"]),
        "python": command_output(["/usr/bin/python3", "--version"]),
        "psycopg2": psycopg2.__version__.split()[0],
        "node": command_output(["node", "--version"]),
        "pg_logical_replication": node_lib,
        "node_pg": node_pg,
        "compiler": command_output(["sh", "-c", "c++ --version | head -1"]),
        "load_before": command_output(["cat", "/proc/loadavg"]),
    }


def main():
    parser = argparse.ArgumentParser(description="side-by-side CDC benchmark (run by run.sh)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--node-modules", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--workloads", default="W1,W2,W3,W4")
    parser.add_argument("--consumers", default=",".join(c for c, _ in CONSUMERS))
    parser.add_argument("--broker-workloads", default="W1,W2",
                        help="the workloads the broker sinks run on (the others skip them)")
    parser.add_argument("--latency-rate", type=float, default=2000)
    parser.add_argument("--latency-seconds", type=float, default=30)
    parser.add_argument("--latency-consumers", default=",".join(LATENCY_CONSUMERS))
    parser.add_argument("--snapshot-rows", type=int, default=None,
                        help="rows of the snapshot table (default 10,000,000 x scale; 0: skip)")
    parser.add_argument("--wrap", help="a command to run each consumer under, e.g. 'perf record -o F --'"
                        " ({slot} is replaced by the slot's name)")
    parser.add_argument("--walsender-probe", choices=PROBE_MODES,
                        help="follow each consumer's walsender: counts (perf stat of its syscalls), strace"
                        " (strace -c: exact, but slows the walsender) or profile (perf record);"
                        " see walsender_probe.py")
    parser.add_argument("--transport", choices=("tcp", "unix"), default="tcp",
                        help="how every connection reaches the server: TCP on 127.0.0.1 (pg-throwaway's"
                        " connection string) or the server's Unix-domain socket")
    parser.add_argument("--command", default="", help="the command line, for the report")
    args = parser.parse_args()

    if args.transport == "unix":
        use_unix_socket()
    env = Environment(args)
    os.makedirs(env.work, exist_ok=True)
    db = Database(env.conninfo)
    create_schema(db)
    if env.probe:
        env.server_port = int(db.value("SHOW port"))
    consumers = [c for c in args.consumers.split(",") if c]
    wanted = set(w for w in args.workloads.split(",") if w)
    started = time.time()
    report = {
        "command": args.command,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "scale": args.scale,
        "transport": args.transport,
        "machine": machine_description(db, env),
        "consumer_titles": dict(CONSUMERS),
        "floor": "floor",
        "reference": "vil_library",
        "workloads": [],
        "latency": {},
    }
    broker_workloads = set(w for w in args.broker_workloads.split(",") if w)
    if broker_workloads & wanted:
        env.brokers = Brokers(env, [c for c in consumers if c in BROKER_CONSUMERS])
    try:
        for workload in make_workloads(args.scale):
            if workload.key in wanted:
                report["workloads"].append(
                    run_workload(db, env, workload, consumers, 1800, broker_workloads))
    finally:
        if env.brokers:
            env.brokers.stop()
            env.brokers = None
    snapshot_rows = args.snapshot_rows if args.snapshot_rows is not None else int(10_000_000 * args.scale)
    if snapshot_rows > 0:
        report["snapshot"] = run_snapshot(db, env, snapshot_rows, timeout=1800)
    latency_consumers = [c for c in args.latency_consumers.split(",") if c]
    if latency_consumers:
        report["latency"] = {
            "rate": args.latency_rate,
            "seconds": args.latency_seconds,
            "consumers": {c: run_latency(db, env, c, args.latency_rate, args.latency_seconds)
                          for c in latency_consumers},
        }
    report["seconds"] = time.time() - started
    report["load_after"] = command_output(["cat", "/proc/loadavg"])
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    log(f"done in {report['seconds']:.0f}s: {args.out}")


if __name__ == "__main__":
    main()
