#!/usr/bin/python3
"""report: turns the driver's JSON into the Markdown report and the bar chart.

    report.py --json latest.json --md latest.md --png latest.png [--profile profile.txt]
"""

import argparse
import json
import os

FLOOR = "floor"
REFERENCE = "vil_library"


def ratio(a, b):
    return a / b if b else float("nan")


def fmt_ratio(value):
    return "—" if value != value else f"{value:.2f}×"


def fmt_rate(value):
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e3:
        return f"{value / 1e3:.0f} k"
    return f"{value:.0f}"


def workload_table(w, titles):
    floor = w["consumers"].get(FLOOR)
    ref = w["consumers"].get(REFERENCE)
    lines = [
        f"### {w['key']}: {w['title']}",
        "",
        f"{w['rows']:,} row changes in {w['transactions']:,} transactions, "
        f"{w['wal_bytes'] / 1e6:,.0f} MB of WAL (written in {w['write_s']:.1f} s), end LSN {w['end_lsn']}.",
        "",
        "| consumer | wall s | rows/s | CPU s (user+sys) | peak RSS MB | walsender CPU s "
        "| wall / floor | CPU / floor | wall / vil | CPU / vil |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, r in w["consumers"].items():
        lines.append(
            "| {} | {:.2f} | {} | {:.2f} | {:.1f} | {:.2f} | {} | {} | {} | {} |".format(
                titles.get(key, key),
                r["wall_s"],
                fmt_rate(r["rows_per_s"]),
                r["cpu_s"],
                r["max_rss_kb"] / 1024,
                r["server_cpu_s"],
                fmt_ratio(ratio(r["wall_s"], floor["wall_s"])) if floor else "—",
                fmt_ratio(ratio(r["cpu_s"], floor["cpu_s"])) if floor else "—",
                fmt_ratio(ratio(r["wall_s"], ref["wall_s"])) if ref else "—",
                fmt_ratio(ratio(r["cpu_s"], ref["cpu_s"])) if ref else "—",
            )
        )
    lines.append("")
    return lines


# The libraries a user would pick instead (pg_recvlogical is the floor).
PEERS = ("psycopg2", "node", "node_ack_commit")


def goals(report):
    """The issue's goals as Markdown table rows: one goal a row, one workload a column."""
    keys = [w["key"] for w in report["workloads"]]
    by_key = {w["key"]: w["consumers"] for w in report["workloads"]}
    titles = report["consumer_titles"]

    def cell(met, text):
        return f"{'met' if met else '**missed**'}: {text}"

    def row(goal, fn, only=None):
        cells = []
        for key in keys:
            c = by_key[key]
            cells.append(fn(c) if (only is None or key in only) and REFERENCE in c else "")
        return f"| {goal} | " + " | ".join(cells) + " |"

    def wall(c):
        if FLOOR not in c:
            return ""
        r = ratio(c[REFERENCE]["wall_s"], c[FLOOR]["wall_s"])
        return cell(r <= 1.05, f"{c[REFERENCE]['wall_s']:.2f} s vs {c[FLOOR]['wall_s']:.2f} s ({(r - 1) * 100:+.0f}%)")

    def cpu(c):
        if FLOOR not in c:
            return ""
        r = ratio(c[REFERENCE]["cpu_s"], c[FLOOR]["cpu_s"])
        return cell(r <= 1 / 3, f"{c[REFERENCE]['cpu_s']:.2f} s vs {c[FLOOR]['cpu_s']:.2f} s ({r:.2f}×)")

    def less_than(peer):
        def fn(c):
            if peer not in c:
                return ""
            r = ratio(c[peer]["cpu_s"], c[REFERENCE]["cpu_s"])
            return cell(r >= 10, f"{c[REFERENCE]['cpu_s']:.2f} s vs {c[peer]['cpu_s']:.2f} s ({r:.1f}× less)")
        return fn

    def rss(consumer):
        def fn(c):
            if consumer not in c:
                return ""
            mb = c[consumer]["max_rss_kb"] / 1024
            return cell(mb < 64, f"{mb:.1f} MB")
        return fn

    def fastest_peer(c):
        peers = [p for p in PEERS if p in c]
        if not peers:
            return ""
        best = min(peers, key=lambda p: c[p]["wall_s"])
        r = ratio(c[REFERENCE]["wall_s"], c[best]["wall_s"])
        return cell(r <= 0.9, f"{c[REFERENCE]['wall_s']:.2f} s vs {c[best]['wall_s']:.2f} s, "
                              f"{titles[best]} ({r:.2f}×)")

    def cpu_quarter(c):
        if FLOOR not in c:
            return ""
        r = ratio(c[REFERENCE]["cpu_s"], c[FLOOR]["cpu_s"])
        return cell(r <= 0.25, f"{r:.2f}×")

    lines = [
        "| goal (vil-cdc library consumer, every row fully decoded) | " + " | ".join(keys) + " |",
        "|---|" + "---|" * len(keys),
        row("wall time within 5% of the floor", wall, only={"W1", "W2", "W3"}),
        row("wall time at most 0.9× the fastest peer's (psycopg2, node)", fastest_peer,
            only={"W1", "W2", "W3"}),
        row("CPU at most 1/3 of pg_recvlogical's", cpu),
        row("CPU at most 1/4 of pg_recvlogical's", cpu_quarter, only={"W1", "W2", "W3"}),
    ]
    for peer in ("psycopg2", "node", "node_ack_commit"):
        if any(peer in c for c in by_key.values()):
            lines.append(row(f"at least 10× less CPU than {titles[peer]}", less_than(peer)))
    lines.append(row("peak RSS under 64 MB (library)", rss(REFERENCE), only={"W3"}))
    lines.append(row("peak RSS under 64 MB (vil-cdc stream)", rss("vil_cli"), only={"W3"}))
    return lines


def latency_table(latency, titles):
    if not latency or not latency.get("consumers"):
        return []
    lines = [
        f"## Latency: a steady {latency['rate']:,.0f} transactions/s for {latency['seconds']:g} s",
        "",
        "Single-row insert transactions from a rate-limited libpq writer "
        "(bench/compare/bench_rate_writer); one consumer at a time streams live from its own slot. "
        "Latency = the consumer's clock when the row reaches its callback minus the commit "
        "time carried in the stream (pgoutput Begin; `Change::commit_time_ns` in vil-cdc). "
        "Server and consumers share the machine's clock.",
        "",
        "| consumer | rows | writer tx/s | p50 ms | p99 ms | max ms | CPU s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, r in latency["consumers"].items():
        lines.append(
            "| {} | {:,} | {:,.0f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.1f} |".format(
                titles.get(key, key), r["samples"], r["writer"]["rate"], r["p50_us"] / 1000,
                r["p99_us"] / 1000, r["max_us"] / 1000, r["cpu_s"], (r["max_rss_kb"] or 0) / 1024))
    lines += ["", "pg_recvlogical does not expose a commit time per row (it writes to /dev/null), so it "
              "has no latency figure.", ""]
    return lines


def profile_shares(profile_text):
    """Shares of the library consumer's CPU, read back from the profile: the
    kernel as a whole, and the receive system call with everything under it."""
    shares = {}
    for line in profile_text.splitlines():
        parts = line.split()
        if not parts or not parts[0].endswith("%"):
            continue
        if parts[-1] == "[kernel.kallsyms]" and len(parts) == 2:
            shares["kernel"] = float(parts[0][:-1])
        elif parts[-1] in ("__x64_sys_recvfrom", "__x64_sys_poll", "__x64_sys_futex", "schedule"):
            shares[parts[-1]] = float(parts[0][:-1])
    return shares


def analysis(report, profile_text):
    """What the misses come from, from this run's own figures."""
    by_key = {w["key"]: w["consumers"] for w in report["workloads"]}
    titles = report["consumer_titles"]
    lines = ["## Where the CPU goes, and what the misses mean", ""]
    shares = profile_shares(profile_text) if profile_text else {}
    if "kernel" in shares and "__x64_sys_recvfrom" in shares:
        waits = sum(shares.get(k, 0.0) for k in ("__x64_sys_poll", "__x64_sys_futex", "schedule"))
        lines += [
            f"- In the profile below, {shares['kernel']:.0f}% of the library consumer's CPU is the "
            f"kernel: {shares['__x64_sys_recvfrom']:.0f}% is `recvfrom` with everything under it "
            f"(TCP receive, copying the stream out of the socket), about {waits:.0f}% waiting and "
            "waking (poll, futex, the scheduler); the rest, decoding, delivery, counters and the "
            "mq_log record, is user space. The receive cost is per byte of the stream, the same "
            "for every consumer of it.",
        ]
    w1 = by_key.get("W1", {})
    if "__x64_sys_recvfrom" in shares and REFERENCE in w1:
        cpu = w1[REFERENCE]["cpu_s"]
        receive = cpu * shares["__x64_sys_recvfrom"] / 100
        user = cpu * (100 - shares.get("kernel", 100)) / 100
        for peer in ("psycopg2", "node_ack_commit"):
            if peer in w1 and w1[peer]["cpu_s"] < 10 * cpu:
                lines.append(
                    f"- 10× less CPU than {titles[peer]} on W1 would be {w1[peer]['cpu_s'] / 10:.2f} s; "
                    f"the library consumer used {cpu:.2f} s, of which the profile (W1 at 1/10 "
                    f"size) puts about {receive:.2f} s in receiving the stream and {user:.2f} s in "
                    "user space. The receiving part shrinks only with fewer bytes on the wire "
                    "(pgoutput's binary mode, say), not with faster decoding.")
    server = []
    for key, c in by_key.items():
        if REFERENCE in c and FLOOR in c:
            least = min(c, key=lambda name: c[name]["server_cpu_s"])
            server.append((key, least, c[least]["server_cpu_s"], c[REFERENCE]["server_cpu_s"],
                           c[FLOOR]["server_cpu_s"]))
    notable = [s for s in server if s[1] not in (REFERENCE, FLOOR) and s[2] < 0.8 * s[3]]
    if notable:
        lines.append(
            "- The walsender's own CPU depends on how its consumer reads: "
            + "; ".join(f"on {k}, {titles[n]}'s walsender used {least:.2f} s against "
                        f"{vil:.2f} s for the library consumer's and {floor:.2f} s for the floor's"
                        for k, n, least, vil, floor in notable)
            + ". The walsender is the bottleneck here, so its pace is the consumers' wall time: "
            "the floor is pg_recvlogical's pace, not the server's limit. Why a slower reader "
            "costs the walsender less is measured in *The walsender's pace* below "
            "(`run.sh --walsender`).")
    lines.append("")
    return lines


def walsender_section(counts, profile):
    """The walsender per consumer (run.sh --walsender): its system calls and
    socket (walsender_probe.py, perf stat and ss) and where its CPU goes."""
    if not counts or not counts.get("workloads"):
        return []
    w = counts["workloads"][0]
    titles = counts["consumer_titles"]
    lines = [
        "## The walsender's pace",
        "",
        f"{w['key']} at scale {counts['scale']:g} ({w['rows']:,} row changes), one consumer at a time, "
        "each under `driver.py --walsender-probe counts`: `perf stat` of the walsender's system "
        "calls (syscall tracepoints: the walsender keeps its pace) and `ss -tinm` of the "
        "connection's two ends every 50 ms. *sends*: `sendto` calls; *failed*: those that "
        "returned an error (EAGAIN: socket full); *segments*: TCP data segments the walsender's "
        "socket put on the wire (loopback); *waits*: `epoll_wait` calls (the walsender "
        "sleeping for the socket or its latch); *reads / with bytes*: its `recvfrom` calls and "
        "those that brought bytes from the consumer (status updates); *replies B*: bytes the "
        "consumer sent after connecting; *rcvbuf*, *queued*: the consumer's receive buffer "
        "(skmem rb) and the most found waiting in it; *unsent*: the most the walsender's socket "
        "held that TCP had not sent yet (notsent).",
        "",
        "| consumer | wall s | walsender CPU s | sends | bytes/send | failed | segments | bytes/segment "
        "| waits | reads / with bytes | replies B | ctx switches | rcvbuf MB | queued MB | unsent MB |",
        "|---|" + "---:|" * 14,
    ]
    mb = 1 << 20
    for key, c in w["consumers"].items():
        p = c.get("walsender", {})
        sc = p.get("syscalls", {})
        server = p.get("server_socket", {})
        client = p.get("client_socket", {})
        segs = server.get("data_segs_out", 0)
        if server.get("bytes_sent"):
            socket_cells = (f"{p.get('bytes_per_send', 0):.0f} | {sc.get('sendto_failed', 0):,.0f} "
                            f"| {segs:,} | {server['bytes_sent'] / max(segs, 1):,.0f}")
            tail_cells = (f"{server.get('bytes_received', 0):,} | {sc.get('context_switches', 0):,.0f} "
                          f"| {client.get('skmem_rb', 0) / mb:.1f} | {p.get('client_max_queued', 0) / mb:.1f} "
                          f"| {p.get('server_max_notsent', 0) / mb:.1f}")
        else:  # ss found no sample of the connection (a short run, a loaded machine)
            socket_cells = f"– | {sc.get('sendto_failed', 0):,.0f} | – | –"
            tail_cells = f"– | {sc.get('context_switches', 0):,.0f} | – | – | –"
        lines.append(
            f"| {titles.get(key, key)} | {c['wall_s']:.2f} | {c['server_cpu_s']:.2f} "
            f"| {sc.get('sendto', 0):,.0f} | {socket_cells} | {sc.get('epoll_wait', 0):,.0f} "
            f"| {sc.get('recvfrom', 0):,.0f} / {sc.get('recvfrom_data', 0):,.0f} | {tail_cells} |")
    lines.append("")
    if profile and profile.get("workloads"):
        pw = profile["workloads"][0]
        keys = ("__x64_sys_sendto", "net_rx_action", "__x64_sys_recvfrom", "schedule")
        lines += [
            f"Where the walsender's CPU goes ({pw['key']} at scale {profile['scale']:g}, `perf record "
            "-e cpu-clock` of the walsender, share of its samples with the function on the stack):",
            "",
            "| consumer | walsender CPU s | sendto | loopback receive (net_rx_action) "
            "| recvfrom | scheduler |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for key, c in pw["consumers"].items():
            shares = {}
            for line in c.get("walsender", {}).get("profile", {}).get("syscalls", []):
                parts = line.split()
                if len(parts) >= 4 and parts[-1] in keys:
                    shares[parts[-1]] = float(parts[0].rstrip("%"))
            lines.append(f"| {titles.get(key, key)} | {c['server_cpu_s']:.2f} | "
                         + " | ".join(f"{shares.get(k, 0):.0f}%" for k in keys) + " |")
        lines.append("")
    lines += walsender_findings(w, profile)
    return lines


def walsender_findings(w, profile):
    """What the tables show, with this run's figures."""
    c = w["consumers"]
    sends = {k: v.get("walsender", {}).get("syscalls", {}).get("sendto", 0) for k, v in c.items()}
    per_change = [n / w["rows"] for n in sends.values() if n]
    bps = [v["walsender"]["bytes_per_send"] for v in c.values()
           if v.get("walsender", {}).get("bytes_per_send")]
    failed = sum(v.get("walsender", {}).get("syscalls", {}).get("sendto_failed", 0) for v in c.values())
    waits = max(v.get("walsender", {}).get("syscalls", {}).get("epoll_wait", 0) for v in c.values())
    lines = ["What the walsender does per message, and why a slower reader costs it less:", ""]
    if per_change and bps:
        lines.append(
            f"- Every consumer gets the same system calls from it: {min(per_change):.2f}–{max(per_change):.2f} "
            f"`sendto` per row change ({min(bps):.0f}–{max(bps):.0f} bytes each: one CopyData message, "
            "`WalSndWriteData` flushes after each change), two `recvfrom` per change (its loop looks for a "
            f"reply, nearly always EAGAIN), {failed:,.0f} failed sends in all "
            f"and at most {waits:,.0f} `epoll_wait` in a run. No consumer here makes it send fewer, "
            "larger writes, or block on a full socket and wait; how often the consumer replies (once a "
            "second for vil-cdc, each commit for node) changes only how many of those `recvfrom` "
            "find bytes.")
    lines.append(
        "- What differs is what a `sendto` costs inside the kernel. With room in the consumer's "
        "receive window, the send transmits a segment at once, and on loopback the sender's own "
        "context then runs the receiving side too (`net_rx_action`: TCP receive into the "
        "consumer's socket, waking the consumer when it sleeps in poll). With the window shut, "
        "the send only appends to the socket's unsent queue, and the segments go out later, large, "
        "when the consumer's reads open the window: the consumer's ACK carries them, in the "
        "consumer's context and on its CPU bill. A consumer that is itself busy (node, Python) keeps "
        "data queued (*queued*, *unsent* above), so the walsender often appends; a consumer "
        "that reads as soon as the socket is readable (pg_recvlogical) keeps the window open, so "
        "the walsender delivers each segment itself. vil-cdc, which keeps up, shuts the window on "
        "purpose: reading a server on this host that is catching up, it keeps a 32 kB socket "
        "buffer and reads on a 10 ms timer (docs/DESIGN.md §6.2, step 4), so its *segments* are "
        "few and large. The profile's `net_rx_action` share is that difference.")
    lines.append(
        "- On this 2-core machine the walsender's CPU for the same consumer varies by tens of "
        "percent from one pass to the next (compare W1's walsender CPU in the throughput table "
        "with the table above), and so does which consumer costs it least, with whatever else "
        "runs; the system-call counts do not vary.")
    lines.append(
        "- The cheap path needs the window shut, not the consumer behind: between two of "
        "vil-cdc's timed reads the walsender's sends queue in its own socket, and each read "
        "drains that queue whole, so nothing waits longer than the timer. What each way of "
        "reading costs the walsender (bench/compare/read_pace.sh) is in bench/compare/README.md.")
    lines.append("")
    return lines


def snapshot_table(snapshot):
    """The snapshot readers of one table, with ratios to the one-connection \\copy."""
    if not snapshot or not snapshot.get("consumers"):
        return []
    c = snapshot["consumers"]
    floor = c.get("copy")
    lines = [
        f"## Snapshot: one table of {snapshot['rows']:,} rows, five columns "
        f"({int(snapshot['table_bytes']) / 1e6:,.0f} MB)",
        "",
        "Each reader reads the whole table once, alone. *copy*: one `psql \\copy ... to /dev/null`, "
        "the single-connection floor: the server's own COPY text, written nowhere. vil-cdc types "
        "every value into JSON lines (written to /dev/null).",
        "",
        "| reader | wall s | rows/s | CPU s (user+sys) | peak RSS MB | server CPU s | wall / copy | rows/s / copy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, r in c.items():
        lines.append(
            f"| {snapshot['titles'][key]} | {r['wall_s']:.2f} | {fmt_rate(r['rows_per_s'])} | "
            f"{r['cpu_s']:.2f} | {r['max_rss_kb'] / 1024:.1f} | {r['server_cpu_s']:.2f} | "
            f"{fmt_ratio(ratio(r['wall_s'], floor['wall_s']))} | "
            f"{fmt_ratio(ratio(r['rows_per_s'], floor['rows_per_s']))} |")
    lines.append("")
    w2 = c.get("vil_w2")
    if floor and w2:
        met = w2["rows_per_s"] >= floor["rows_per_s"]
        rss_ok = all(r["max_rss_kb"] / 1024 < 64 for k, r in c.items() if k.startswith("vil_"))
        lines += [
            f"- Goal, 2 workers at least the rows/s of one `\\copy` to /dev/null: "
            f"**{'met' if met else 'missed'}** ({fmt_rate(w2['rows_per_s'])} vs "
            f"{fmt_rate(floor['rows_per_s'])} rows/s).",
            f"- Goal, peak RSS under 64 MB: **{'met' if rss_ok else 'missed'}**.",
            "- From 1 to 4 workers: " + ", ".join(
                f"{k.removeprefix('vil_w')}: {fmt_rate(c[k]['rows_per_s'])} rows/s"
                for k in ("vil_w1", "vil_w2", "vil_w4") if k in c) +
            f". On {os.cpu_count()} cores the server's COPY and the client share the machine: "
            "more workers help only while a core is idle.",
            "",
        ]
    return lines


BROKERS = ("vil_http", "vil_kafka", "vil_nats")
FILE_SINK = "vil_cli"


def broker_table(report):
    """Each broker sink beside the file sink, on the workloads they ran."""
    titles = report["consumer_titles"]
    runs = [w for w in report["workloads"]
            if FILE_SINK in w["consumers"] and any(b in w["consumers"] for b in BROKERS)]
    if not runs:
        return []
    lines = [
        "## Broker sinks beside the file sink",
        "",
        "`vil-cdc stream` with the same slot position and end LSN, into each sink: the file sink "
        "writes to /dev/null; the HTTP sink POSTs to a local receiver "
        "(bench/compare/bench_http_receiver), the Kafka sink produces to librdkafka's mock "
        "cluster (bench/compare/bench_kafka_mock, `acks=all`, idempotent), the NATS sink "
        "publishes to a local nats-server with JetStream on a file store. A run ends when every "
        "change up to the end LSN was acknowledged and confirmed. The destination runs on the "
        "same two cores: its CPU is the last column. Goal: each broker sink at least 0.8× the "
        "file sink's rows/s on W1.",
        "",
        "| workload | sink | wall s | rows/s | / file sink | CPU s | peak RSS MB | destination CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for w in runs:
        c = w["consumers"]
        base = c[FILE_SINK]
        for key in (FILE_SINK,) + BROKERS:
            if key not in c:
                continue
            r = c[key]
            share = ratio(r["rows_per_s"], base["rows_per_s"])
            met = "" if key == FILE_SINK or w["key"] != "W1" else (" (met)" if share >= 0.8 else " (**missed**)")
            lines.append("| {} | {} | {:.2f} | {} | {}{} | {:.2f} | {:.1f} | {} |".format(
                w["key"], titles.get(key, key), r["wall_s"], fmt_rate(r["rows_per_s"]),
                fmt_ratio(share), met, r["cpu_s"], r["max_rss_kb"] / 1024,
                f"{r['broker_cpu_s']:.2f}" if "broker_cpu_s" in r else "—"))
    lines.append("")
    return lines


def markdown(report, profile_text, png_name, walsender=None, walsender_profile=None):
    titles = report["consumer_titles"]
    m = report["machine"]
    lines = [
        "# vil-cdc side by side",
        "",
        f"One run of `{report['command']}` on {report['started']} "
        f"({report['seconds'] / 60:.1f} min, scale {report['scale']:g}). "
        "Every consumer reads the identical WAL: each has its own slot, created before the "
        "workload was written, and runs alone, one after another, from its slot to the commit "
        "LSN of the workload's last transaction. Ratios come from this one run.",
        "",
        f"![wall time and CPU per consumer]({png_name})",
        "",
        "## Goals",
        "",
    ]
    lines += goals(report)
    lines.append("")
    lines += analysis(report, profile_text)
    lines += ["## Throughput", ""]
    lines += [
        "- *wall s*: from starting the consumer process to its exit after the end LSN "
        "(includes connecting and start-up: ~0.1 s for the C/C++ programs, more for Python and Node).",
        "- *CPU s*: the consumer process's user + system time (GNU time); *peak RSS*: its maximum resident set.",
        "- *walsender CPU s*: the server process that decodes and sends the stream for that consumer "
        "(the postmaster's reaped-children CPU before and after).",
        "- *floor*: `pg_recvlogical` with pgoutput to /dev/null, the server's own sending speed. "
        "*vil*: the library consumer (views), which touches every column of every row.",
        "",
    ]
    for w in report["workloads"]:
        lines += workload_table(w, titles)
    lines += broker_table(report)
    lines += snapshot_table(report.get("snapshot"))
    lines += latency_table(report.get("latency"), titles)
    lines += walsender_section(walsender, walsender_profile)
    s = m["settings"]
    lines += [
        "## Consumers",
        "",
        "- **pg_recvlogical (pgoutput)**: `pg_recvlogical --start --no-loop -o proto_version=1 "
        "-o publication_names=bench --endpos END -f /dev/null` (the floor).",
        "- **pg_recvlogical (wal2json)**: the same with a wal2json slot and `-o format-version=2` "
        "(one JSON document per row; version 1 would build each transaction, W3's million rows, as one document).",
        "- **vil-cdc library (views)**: bench/compare/bench_vil_library, `CdcTrigger::stop_at(END)` and a "
        "ChangeSink that reads every column view (kind, bytes) of every old and new tuple.",
        "- **vil-cdc library (typed values)**: the same, also converting every value with "
        "`vil::values::convert` (int, numeric, timestamptz, bool, text → typed values).",
        "- **vil-cdc stream --format jsonl**: the CLI, `--output /dev/null --quiet --end-lsn END`.",
        "- **psycopg2 consumer**: bench/compare/psycopg2_consumer.py, `LogicalReplicationConnection`, "
        "decodes every pgoutput message (type, relation cache, tuple columns to Python str/int/bool), "
        "`send_feedback` after each commit.",
        "- **node pg-logical-replication**: bench/compare/node_consumer.mjs, `PgoutputPlugin` as in its "
        "README (it parses every column with pg-types; the service acknowledges every message, its default); "
        "*ack per commit*: the same with `acknowledge.auto` off, acknowledging each commit itself.",
        "",
        "Every pgoutput consumer asks for protocol version 1 with the same publication, so the "
        "server sends the same bytes to each. Each consumer's row count is checked against the workload.",
        "",
        "## Machine and settings",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_gb']} GB; kernel {m['kernel']}; {m['os']}.",
        f"- {m['postgresql']}",
        f"- Server settings: fsync={s['fsync']}, full_page_writes={s['full_page_writes']}, "
        f"synchronous_commit={s['synchronous_commit']}, autovacuum={s['autovacuum']}, "
        f"shared_buffers={s['shared_buffers']}, logical_decoding_work_mem={s['logical_decoding_work_mem']}, "
        f"max_wal_size={s['max_wal_size']}, wal_sender_timeout={s['wal_sender_timeout']}. "
        "A throwaway cluster (tools/pg-throwaway) on 127.0.0.1 over TCP; fsync and "
        "full_page_writes off only make writing the workloads faster: the consumers read WAL "
        "that is already written, and the server decodes it exactly as with fsync on.",
        f"- Peers: {m['pg_recvlogical']}; wal2json {m['wal2json']}; {m['python']} with psycopg2 "
        f"{m['psycopg2']}; Node {m['node']} with pg-logical-replication {m['pg_logical_replication']} "
        f"(pg {m['node_pg']}); vil-cdc built with {m['compiler']} (RelWithDebInfo: -O2 -g).",
        f"- Load average before the run: {m['load_before']}; after: {report.get('load_after', '?')}. "
        "The machine has 2 cores: the walsender and the consumer each get about one.",
        "",
    ]
    if profile_text:
        lines += [
            "## Profile of the library consumer",
            "",
            "W1 at 1/10 size (100,000 rows), `perf record -e cpu-clock` of bench_vil_library "
            "(self time per function, then per library):",
            "",
            "```",
            profile_text.rstrip(),
            "```",
            "",
        ]
    return "\n".join(lines) + "\n"


def chart(report, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    titles = report["consumer_titles"]
    workloads = report["workloads"]
    # The broker sinks run on some workloads only: they have their own table.
    consumers = [k for k in workloads[0]["consumers"] if k not in BROKERS] if workloads else []
    colors = {
        "floor": "#7f7f7f", "wal2json": "#bcbd22", "vil_library": "#1f77b4", "vil_typed": "#17becf",
        "vil_cli": "#2ca02c", "psycopg2": "#ff7f0e", "node": "#d62728", "node_ack_commit": "#9467bd",
    }
    fig, axes = plt.subplots(2, 1, figsize=(12, 9), constrained_layout=True)
    width = 0.8 / max(1, len(consumers))
    for ax, metric, label in (
        (axes[0], "wall_s", "wall time to the end LSN (s, log scale)"),
        (axes[1], "cpu_s", "consumer CPU, user + sys (s, log scale)"),
    ):
        for i, key in enumerate(consumers):
            xs = [j + (i - (len(consumers) - 1) / 2) * width for j in range(len(workloads))]
            ys = [w["consumers"][key][metric] for w in workloads]
            bars = ax.bar(xs, ys, width, label=titles.get(key, key), color=colors.get(key))
            for bar, y in zip(bars, ys):
                ax.annotate(f"{y:.2g}" if y < 10 else f"{y:.0f}", (bar.get_x() + bar.get_width() / 2, y),
                            ha="center", va="bottom", fontsize=7, rotation=90, xytext=(0, 2),
                            textcoords="offset points")
        ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.set_xticks(range(len(workloads)))
        ax.set_xticklabels([f"{w['key']}\n{w['rows']:,} rows, {w['transactions']:,} tx" for w in workloads])
        ax.grid(axis="y", which="both", alpha=0.3)
        ymin, ymax = ax.get_ylim()
        ax.set_ylim(ymin, ymax * 3)
    axes[0].legend(ncol=4, fontsize=9, loc="upper left")
    axes[0].set_title(f"Same WAL, one consumer at a time ({report['started']}, scale {report['scale']:g})")
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True)
    parser.add_argument("--md", required=True)
    parser.add_argument("--png", required=True)
    parser.add_argument("--profile")
    parser.add_argument("--walsender", help="driver.py --walsender-probe counts output")
    parser.add_argument("--walsender-profile", help="driver.py --walsender-probe profile output")
    args = parser.parse_args()
    with open(args.json) as f:
        report = json.load(f)
    profile_text = ""
    if args.profile and os.path.exists(args.profile):
        with open(args.profile) as f:
            profile_text = f.read()
    walsender = {}
    for name in ("walsender", "walsender_profile"):
        path = getattr(args, name)
        if path and os.path.exists(path):
            with open(path) as f:
                walsender[name] = json.load(f)
    with open(args.md, "w") as f:
        f.write(markdown(report, profile_text, os.path.basename(args.png), **walsender))
    chart(report, args.png)


if __name__ == "__main__":
    main()
