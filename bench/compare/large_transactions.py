#!/usr/bin/env python3
"""Large transactions, spilled by the server or streamed to vil-cdc (run by
large_transactions.sh inside a throwaway cluster; see README.md).

For W3 (one transaction of 1,000,000 rows) and W5 (one of 5,000,000), each
consumer reads the identical WAL from its own slot, alone, one after
another: pg_recvlogical with pgoutput (the floor) without and with
`streaming 'on'`, and vil-cdc (library consumer and `vil-cdc stream`) with
--streaming off and on. Per run: wall, client CPU and peak RSS (GNU time),
the walsender's CPU, the server's spill and stream figures for the slot
(pg_stat_replication_slots, before and after), and what vil-cdc wrote to its
own spill file. Writes a JSON file and a Markdown report.
"""

import argparse
import json
import os
import subprocess
import time

import driver
from driver import PUBLICATION, ROW_FROM_G, Database, Environment, Workload, log

CONSUMERS = [
    ("floor", "pg_recvlogical (pgoutput), streaming off"),
    ("floor_streaming", "pg_recvlogical (pgoutput), streaming on"),
    ("vil_off", "vil-cdc library, --streaming off"),
    ("vil_on", "vil-cdc library, --streaming on"),
    ("vil_parallel", "vil-cdc library, --streaming parallel (16+)"),
    ("vil_cli_off", "vil-cdc stream --streaming off"),
    ("vil_cli_on", "vil-cdc stream --streaming on"),
]
TITLES = dict(CONSUMERS)
STAT_COLUMNS = ("spill_txns", "spill_bytes", "stream_txns", "stream_bytes", "total_txns")


def workloads(scale):
    out = []
    for key, rows in (("W3", 1_000_000), ("W5", 5_000_000)):
        n = int(rows * scale)
        out.append(Workload(key, "one transaction of %s rows" % f"{n:,}", n, 1, ["TRUNCATE w3"], [],
                            [f"INSERT INTO w3 SELECT {ROW_FROM_G} FROM generate_series(1, {n}) g"]))
    return out


def command(env, consumer, slot, end_lsn, spill_dir):
    if consumer.startswith("floor"):
        # The npm servers come without client programs: Debian's talks to each.
        recvlogical = os.path.join(env.bindir, "pg_recvlogical")
        if not os.path.exists(recvlogical):
            recvlogical = "/usr/lib/postgresql/15/bin/pg_recvlogical"
        cmd = [recvlogical, "-d", env.conninfo, "--slot", slot, "--start",
               "--no-loop", "-o", "proto_version=2", "-o", f"publication_names={PUBLICATION}",
               "--endpos", end_lsn, "-f", "/dev/null"]
        if consumer == "floor_streaming":
            cmd += ["-o", "streaming=on"]
        return cmd
    streaming = consumer.rsplit("_", 1)[1]
    if consumer.startswith("vil_cli"):
        return [os.path.join(env.build, "tools/vil-cdc/vil-cdc"), "stream", "--conn", env.conninfo,
                "--slot", slot, "--publication", PUBLICATION, "--format", "jsonl", "--quiet",
                "--output", "/dev/null", "--streaming", streaming, "--spill-dir", spill_dir,
                "--end-lsn", end_lsn]
    return [os.path.join(env.build, "bench/compare/bench_vil_library"), "--conn", env.conninfo,
            "--slot", slot, "--publication", PUBLICATION, "--protocol-version", "0",
            "--streaming", streaming, "--end-lsn", end_lsn]


def slot_stats(db, slot):
    row = None
    with db.conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(STAT_COLUMNS)} FROM pg_stat_replication_slots WHERE slot_name = %s",
                    (slot,))
        row = cur.fetchone()
    return dict(zip(STAT_COLUMNS, (int(v) for v in row))) if row else dict.fromkeys(STAT_COLUMNS, 0)


def stats_after(db, slot, before):
    """The walsender reports its figures as it exits; they reach the view a
    moment later."""
    deadline = time.monotonic() + 10
    while True:
        now = slot_stats(db, slot)
        if now["total_txns"] > before["total_txns"]:
            return now
        if time.monotonic() > deadline:
            return now
        time.sleep(0.1)


def run_one(db, env, consumer, slot, end_lsn, spill_dir):
    time_out = os.path.join(env.work, f"time-{slot}.txt")
    cmd = ["/usr/bin/time", "-v", "-o", time_out] + command(env, consumer, slot, end_lsn, spill_dir)
    before = slot_stats(db, slot)
    server_before = env.server_children_cpu()
    started = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=3600)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{consumer} failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    driver.wait_slot_inactive(db, slot)
    result = {"wall_s": wall, "server_cpu_s": env.server_children_cpu() - server_before}
    result.update(driver.parse_gnu_time(time_out))
    result["cpu_s"] = result["user_s"] + result["sys_s"]
    after = stats_after(db, slot, before)
    result["server"] = {k: after[k] - before[k] for k in STAT_COLUMNS}
    lines = proc.stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        result["summary"] = json.loads(lines[-1])
    return result


def run_workload(db, env, workload, consumers, spill_dir):
    for sql in workload.prepare:
        db.execute(sql)
    db.execute("CHECKPOINT")
    slots = {}
    for consumer in consumers:
        slot = f"large_{workload.key.lower()}_{consumer}"
        db.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
        slots[consumer] = slot
    start_lsn = db.value("SELECT pg_current_wal_insert_lsn()::text")
    log(f"{workload.key}: writing {workload.title}")
    write_s, end_lsn = driver.write_workload(db, workload)
    wal_bytes = driver.lsn_value(end_lsn) - driver.lsn_value(start_lsn)
    results = {}
    for consumer in consumers:
        r = run_one(db, env, consumer, slots[consumer], end_lsn, spill_dir)
        rows = r.get("summary", {}).get("rows")
        if rows is not None and rows != workload.rows:
            raise RuntimeError(f"{workload.key}: {consumer} saw {rows} rows, expected {workload.rows}")
        results[consumer] = r
        log(f"{workload.key}: {consumer:16s} wall {r['wall_s']:6.2f}s cpu {r['cpu_s']:6.2f}s "
            f"walsender {r['server_cpu_s']:6.2f}s rss {r['max_rss_kb'] / 1024:6.1f} MB "
            f"server spill {r['server']['spill_bytes'] / 1e6:7.1f} MB stream {r['server']['stream_bytes'] / 1e6:7.1f} MB")
        db.execute("SELECT pg_drop_replication_slot(%s)", (slots[consumer],))
    return {"key": workload.key, "title": workload.title, "rows": workload.rows, "write_s": write_s,
            "wal_bytes": wal_bytes, "end_lsn": end_lsn, "consumers": results}


def machine(db):
    cpu = next((line.split(":", 1)[1].strip() for line in driver.command_output(["lscpu"]).splitlines()
                if line.startswith("Model name:")), "")
    with open("/proc/meminfo") as f:
        mem_kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
    settings = ", ".join(f"{name}={db.value(f'SHOW {name}')}" for name in
                         ("shared_buffers", "logical_decoding_work_mem", "fsync", "autovacuum"))
    return (f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.0f} GB; load before "
            f"{driver.command_output(['cat', '/proc/loadavg'])}; {settings}")


def run_live(db, env, rows, streaming):
    """The large transaction written while vil-cdc streams: seconds from its
    COMMIT returning to the library consumer having delivered all of it (it
    stops at the row of latency_end written right after)."""
    slot = f"large_live_{streaming}"
    db.execute("TRUNCATE w3, latency_end")
    db.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
    cmd = [os.path.join(env.build, "bench/compare/bench_vil_library"), "--conn", env.conninfo, "--slot", slot,
           "--publication", PUBLICATION, "--protocol-version", "0", "--streaming", streaming,
           "--stop-table", "latency_end"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while db.value("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)) is not True:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"live {streaming}: the consumer never started streaming")
            time.sleep(0.05)
        began = time.monotonic()
        db.execute(f"INSERT INTO w3 SELECT {ROW_FROM_G} FROM generate_series(1, {rows}) g")
        committed = time.monotonic()
        db.execute("INSERT INTO latency_end VALUES (1)")
        out, err = proc.communicate(timeout=3600)
        delivered = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"live {streaming} failed ({proc.returncode}): {err[-3000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    if summary["rows"] != rows + 1:
        raise RuntimeError(f"live {streaming}: {summary['rows']} rows, expected {rows + 1}")
    driver.wait_slot_inactive(db, slot)
    db.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    return {"write_s": committed - began, "commit_to_delivered_s": delivered - committed,
            "spilled_bytes": summary.get("streamed_spilled_bytes", 0)}


def ratio(a, b):
    return f"{a / b:.2f}×" if b else "—"


def markdown(report):
    out = ["# Large transactions: spilled by the server, or streamed to vil-cdc", ""]
    out.append(f"One run of `{report['command']}` on {report['started']} ({report['seconds'] / 60:.1f} min, "
               f"scale {report['scale']:g}), PostgreSQL {report['server_version']}, "
               f"`logical_decoding_work_mem` {report['work_mem']}. Each consumer reads the identical WAL "
               "from its own slot, alone, one after another. vil-cdc keeps at most 16 MiB of streamed "
               "changes in memory (`streaming_memory_bytes`, the default) and the rest in its own spill "
               "file; ratios come from this one run.")
    out.append("")
    out.append(f"Machine: {report['machine']}")
    out.append("")
    out.append("- *wall s*: start of the process to its exit after the transaction's commit; *CPU s*: its "
               "user + system time; *peak RSS*: its maximum resident set (GNU time).")
    out.append("- *walsender CPU s*: the server process that decoded and sent the stream.")
    out.append("- *server spill / stream MB*: `pg_stat_replication_slots.spill_bytes` / `stream_bytes` "
               "for the slot, after minus before; *own spill MB*: what vil-cdc wrote to its spill file.")
    out.append("")
    for w in report["workloads"]:
        c = w["consumers"]
        out.append(f"## {w['key']}: {w['title']}")
        out.append("")
        out.append(f"{w['wal_bytes'] / 1e6:.0f} MB of WAL, written in {w['write_s']:.1f} s, end LSN {w['end_lsn']}.")
        out.append("")
        out.append("| consumer | wall s | CPU s | peak RSS MB | walsender CPU s | server spill MB | "
                   "server stream MB | own spill MB | wall / floor | wall / streaming off |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        floor = c.get("floor", {}).get("wall_s")
        for key, r in c.items():
            off_key = {"floor_streaming": "floor", "vil_on": "vil_off", "vil_parallel": "vil_off",
                       "vil_cli_on": "vil_cli_off"}.get(key)
            own = r.get("summary", {}).get("streamed_spilled_bytes")
            vs_off = ratio(r["wall_s"], c[off_key]["wall_s"]) if off_key in c else ""
            out.append(
                f"| {TITLES[key]} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['max_rss_kb'] / 1024:.1f} | "
                f"{r['server_cpu_s']:.2f} | {r['server']['spill_bytes'] / 1e6:.0f} | "
                f"{r['server']['stream_bytes'] / 1e6:.0f} | {'' if own is None else f'{own / 1e6:.0f}'} | "
                f"{ratio(r['wall_s'], floor) if floor else ''} | {vs_off} |")
        out.append("")
    goals = []
    w3 = next((w for w in report["workloads"] if w["key"] == "W3"), None)
    if w3 and "vil_on" in w3["consumers"] and "vil_off" in w3["consumers"]:
        on, off = w3["consumers"]["vil_on"]["wall_s"], w3["consumers"]["vil_off"]["wall_s"]
        goals.append(f"| W3 wall with streaming at most 0.7× without (library) | "
                     f"{'met' if on <= 0.7 * off else '**missed**'}: {on:.2f} s vs {off:.2f} s ({on / off:.2f}×) |")
    w5 = next((w for w in report["workloads"] if w["key"] == "W5"), None)
    if w5:
        for key in ("vil_off", "vil_on", "vil_parallel", "vil_cli_off", "vil_cli_on"):
            if key in w5["consumers"]:
                mb = w5["consumers"][key]["max_rss_kb"] / 1024
                goals.append(f"| W5 peak RSS under 64 MB ({TITLES[key]}) | "
                             f"{'met' if mb < 64 else '**missed**'}: {mb:.1f} MB |")
    if w3 and "vil_on" in w3["consumers"] and "vil_off" in w3["consumers"]:
        on, off = w3["consumers"]["vil_on"], w3["consumers"]["vil_off"]
        out.append("## What streaming changes, and what it does not")
        out.append("")
        out.append(
            f"- On W3 the server spilled {off['server']['spill_bytes'] / 1e6:.0f} MB for vil-cdc without "
            f"streaming and {on['server']['spill_bytes'] / 1e6:.0f} MB with it; vil-cdc wrote "
            f"{on.get('summary', {}).get('streamed_spilled_bytes', 0) / 1e6:.0f} MB to its own spill file "
            f"instead, and its peak RSS went from {off['max_rss_kb'] / 1024:.1f} to "
            f"{on['max_rss_kb'] / 1024:.1f} MB (the 16 MiB it keeps in memory).")
        out.append(
            f"- The walsender's CPU went from {off['server_cpu_s']:.2f} s to {on['server_cpu_s']:.2f} s, "
            f"against a wall time of {off['wall_s']:.2f} s and {on['wall_s']:.2f} s: the walsender is the "
            "bottleneck either way. Without streaming it writes the transaction to its spill files as it "
            "decodes and, at the commit, reads it back and only then sends it; with streaming it sends each "
            "change as it decodes it. How much that saves depends on what a send costs it: with vil-cdc "
            "reading a server on this host on its timer (docs/DESIGN.md §6.2, step 4), a send only joins the "
            "socket's queue and the spill is the larger part of the difference; when every send was "
            "delivered in the walsender's own context (before 2026-12-03's evening), streaming cost it 5 to "
            "11% more instead.")
        out.append("")
    live = report.get("live")
    if live:
        out.append(f"## Live: {live['rows']:,} rows in one transaction written while vil-cdc streams")
        out.append("")
        if live.get("started"):
            out.append(f"(A run of its own, {live['started']}.)")
            out.append("")
        out.append("The library consumer runs first; then the transaction is written, and a one-row transaction "
                   "after it. *commit to delivered*: from the large transaction's COMMIT returning to the consumer "
                   "having delivered every row of it (it exits at the next transaction's row): how long the owner "
                   "waits for a large transaction once it committed.")
        out.append("")
        out.append("| --streaming | written in s | commit to delivered s | own spill MB |")
        out.append("|---|---:|---:|---:|")
        for mode, r in live["modes"].items():
            out.append(f"| {mode} | {r['write_s']:.2f} | {r['commit_to_delivered_s']:.2f} | "
                       f"{r['spilled_bytes'] / 1e6:.0f} |")
        out.append("")
    if goals:
        out[4:4] = ["## Goals", "", "| goal | result |", "|---|---|"] + goals + [""]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--md", required=True)
    parser.add_argument("--workloads", default="W3,W5")
    parser.add_argument("--consumers", default=",".join(c for c, _ in CONSUMERS))
    parser.add_argument("--live-rows", type=int, default=None,
                        help="rows of the live run (default 1,000,000 x scale; 0: skip)")
    parser.add_argument("--command", default="")
    args = parser.parse_args()
    args.node_modules = ""
    args.wrap = None
    args.walsender_probe = None
    if args.live_rows is None:
        args.live_rows = int(1_000_000 * args.scale)
    env = Environment(args)
    os.makedirs(env.work, exist_ok=True)
    spill_dir = os.path.join(env.work, "spill")
    db = Database(env.conninfo)
    driver.create_schema(db)
    consumers = [c for c in args.consumers.split(",") if c]
    if int(db.value("SHOW server_version_num")) < 160000:
        consumers = [c for c in consumers if c != "vil_parallel"]
    wanted = set(args.workloads.split(","))
    started = time.time()
    report = {
        "command": args.command,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "scale": args.scale,
        "machine": machine(db),
        "server_version": db.value("SHOW server_version"),
        "work_mem": db.value("SHOW logical_decoding_work_mem"),
        "workloads": [],
    }
    for workload in workloads(args.scale):
        if workload.key in wanted:
            report["workloads"].append(run_workload(db, env, workload, consumers, spill_dir))
    if args.live_rows > 0:
        report["live"] = {"rows": args.live_rows, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                          "modes": {mode: run_live(db, env, args.live_rows, mode) for mode in ("off", "on")}}
        for mode, r in report["live"]["modes"].items():
            log(f"live {mode}: written in {r['write_s']:.2f}s, commit to delivered {r['commit_to_delivered_s']:.2f}s")
    report["seconds"] = time.time() - started
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)
    with open(args.md, "w") as f:
        f.write(markdown(report))
    log(f"done in {report['seconds']:.0f}s: {args.md}")


if __name__ == "__main__":
    main()
