"""What the walsender does for one consumer: its system calls, its socket and
what the consumer sends back (driver.py --walsender-probe).

The probe attaches to the postmaster before the consumer starts, so the
walsender it forks for the consumer is followed from its first system call
(perf and strace both follow new children). Modes:

- counts:  `perf stat` of syscall tracepoints (sendto, its failures, recvfrom
           and the ones that brought bytes, epoll_wait, all syscalls), task
           clock and context switches. In-kernel counters: the walsender runs
           at its normal pace.
- strace:  `strace -c -f`: the same counts with times per call, but every
           system call stops the walsender for the tracer, so its pace (and the
           consumer's reading) is not the real one. Counts only.
- profile: `perf record -g` of the walsender (cpu-clock): where its CPU goes.

In every mode the TCP connection is sampled with `ss -tinm` every 50 ms from
both ends: bytes and segments sent and received, socket buffer sizes (skmem
rb/tb), windows. Bytes per send = the server end's bytes_sent / sendto calls;
the consumer's replies = bytes the server end received after the start
(status updates are 39 bytes on the wire each).
"""

import os
import re
import signal
import subprocess
import threading
import time

MODES = ("counts", "strace", "profile")

# perf stat events, each with an optional filter: (name, event, filter).
PERF_EVENTS = [
    ("sendto", "syscalls:sys_enter_sendto", None),
    ("sendto_failed", "syscalls:sys_exit_sendto", "ret < 0"),
    ("recvfrom", "syscalls:sys_enter_recvfrom", None),
    ("recvfrom_data", "syscalls:sys_exit_recvfrom", "ret > 0"),
    ("epoll_wait", "syscalls:sys_enter_epoll_wait", None),
    ("syscalls", "raw_syscalls:sys_enter", None),
    ("task_clock_ms", "task-clock", None),
    ("context_switches", "context-switches", None),
]

SS_FIELDS = ("bytes_sent", "bytes_acked", "bytes_received", "segs_out", "segs_in", "data_segs_out",
             "data_segs_in", "rcv_space", "rcv_ssthresh", "snd_wnd", "rcv_wnd", "cwnd", "notsent")


def parse_ss_line(line):
    out = {}
    for key in SS_FIELDS:
        m = re.search(r"\b%s:(\d+)" % key, line)
        if m:
            out[key] = int(m.group(1))
    m = re.search(r"skmem:\(([^)]*)\)", line)
    if m:
        for part in m.group(1).split(","):
            k = re.match(r"([a-z]+)(\d+)", part)
            if k and k.group(1) in ("r", "rb", "t", "tb"):
                out["skmem_" + k.group(1)] = int(k.group(2))
    return out


class WalsenderProbe:
    def __init__(self, mode, postmaster_pid, server_port, out_prefix):
        if mode not in MODES:
            raise ValueError(f"walsender probe: unknown mode {mode}")
        self.mode = mode
        self.postmaster = postmaster_pid
        self.server_port = server_port
        self.out = out_prefix
        self.tracer = None
        self.sampler = None
        self.stopping = threading.Event()
        self.ends = {}  # client port -> last ss samples of both ends, maxima

    def start(self):
        pid = str(self.postmaster)
        if self.mode == "counts":
            cmd = ["perf", "stat", "-x", ";", "-o", self.out + ".perfstat"]
            for _, event, flt in PERF_EVENTS:
                cmd += ["-e", event] + (["--filter", flt] if flt else [])
            cmd += ["-p", pid]
        elif self.mode == "strace":
            cmd = ["strace", "-c", "-f", "-o", self.out + ".strace", "-p", pid]
        else:
            cmd = ["perf", "record", "-q", "-g", "-e", "cpu-clock", "-F", "2999", "-o",
                   self.out + ".perf.data", "-p", pid]
        self.tracer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # attached before the consumer starts
        self.sampler = threading.Thread(target=self.sample, daemon=True)
        self.sampler.start()

    def sample(self):
        """The consumer's replication connection is the one, among those to
        the server port opened after the start, that the server sent most on
        (a consumer may open others for SQL)."""
        before = self.connections()
        while not self.stopping.is_set():
            for local, peer, line in self.ss_lines():
                if local == self.server_port and peer not in before:
                    server = self.ends.setdefault(peer, {"max_notsent": 0, "max_queued": 0})
                    server["server"] = parse_ss_line(line)
                    server["max_notsent"] = max(server["max_notsent"],
                                                server["server"].get("notsent", 0))
                elif peer == self.server_port and local not in before and local in self.ends:
                    client = self.ends[local]
                    client["client"] = parse_ss_line(line)
                    client["max_queued"] = max(client["max_queued"], client["client"].get("skmem_r", 0))
            self.stopping.wait(0.05)

    def ss_lines(self):
        try:
            text = subprocess.run(["ss", "-tinmHO", "state", "established"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, timeout=5).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        out = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 4:
                continue
            try:
                local = int(parts[2].rsplit(":", 1)[1])
                peer = int(parts[3].rsplit(":", 1)[1])
            except (IndexError, ValueError):
                continue
            out.append((local, peer, line))
        return out

    def connections(self):
        return {peer for local, peer, _ in self.ss_lines() if local == self.server_port}

    def stop(self):
        """After the consumer exited and its walsender was reaped."""
        self.stopping.set()
        if self.sampler:
            self.sampler.join()
        if self.tracer and self.tracer.poll() is None:
            self.tracer.send_signal(signal.SIGINT)
            try:
                self.tracer.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.tracer.kill()
                self.tracer.wait()
        return self.result()

    def result(self):
        ends = max(self.ends.values(), key=lambda e: e.get("server", {}).get("bytes_sent", 0),
                   default={})
        server = ends.get("server", {})
        r = {"mode": self.mode, "server_socket": server, "client_socket": ends.get("client", {}),
             "server_max_notsent": ends.get("max_notsent", 0),
             "client_max_queued": ends.get("max_queued", 0)}
        if self.mode == "counts":
            r["syscalls"] = self.parse_perf_stat(self.out + ".perfstat")
        elif self.mode == "strace":
            r["syscalls"] = self.parse_strace(self.out + ".strace")
        else:
            r["profile"] = self.perf_report(self.out + ".perf.data")
        sends = r.get("syscalls", {}).get("sendto")
        if sends and server.get("bytes_sent"):
            r["bytes_per_send"] = server["bytes_sent"] / sends
        return r

    @staticmethod
    def parse_perf_stat(path):
        counts = {}
        names = {event: name for name, event, _ in PERF_EVENTS}
        seen = {}
        try:
            with open(path) as f:
                for line in f:
                    fields = line.strip().split(";")
                    if len(fields) < 3 or fields[0].startswith("#"):
                        continue
                    event = fields[2]
                    # the same event twice (with and without a filter): in order
                    candidates = [n for n, e, _ in PERF_EVENTS if e == event]
                    i = seen.get(event, 0)
                    seen[event] = i + 1
                    name = candidates[i] if i < len(candidates) else names.get(event, event)
                    try:
                        counts[name] = float(fields[0])
                    except ValueError:
                        counts[name] = None
        except OSError:
            pass
        return counts

    @staticmethod
    def parse_strace(path):
        counts = {}
        try:
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 5 and re.match(r"^[\d.]+$", parts[0]) and parts[-1] != "total":
                        calls = int(parts[3])
                        errors = int(parts[4]) if len(parts) == 6 else 0
                        counts[parts[-1]] = calls
                        if errors:
                            counts[parts[-1] + "_failed"] = errors
                        counts[parts[-1] + "_us_per_call"] = int(parts[2])
        except OSError:
            pass
        return counts

    @staticmethod
    def perf_report(path):
        def run(args):
            try:
                return subprocess.run(["perf", "report", "-i", path, "--stdio", "-g", "none"] + args,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                      timeout=300).stdout
            except (OSError, subprocess.SubprocessError):
                return ""

        def squeeze(text, n):
            lines = [re.sub(r" {2,}", "  ", l.rstrip()) for l in text.splitlines()
                     if l.strip() and not l.startswith("#")]
            return lines[:n]

        # the walsender only: the postmaster and other backends are in the file too
        comm = ["--comms", "postgres"]
        return {
            "self": squeeze(run(["--no-children", "--sort", "sym", "--percent-limit", "1"] + comm), 25),
            "syscalls": [l for l in squeeze(run(["--children", "--sort", "sym"] + comm), 400)
                         if re.search(r"\[k\] (__x64_sys_\w+|schedule|do_softirq\w*|net_rx_action)$", l)][:10],
        }
