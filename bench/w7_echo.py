"""W7: TCP echo throughput and idle-connection memory, asyncio-cpp against the peers.

Used by run_bench.py (workloads W7 and W7m); standard library only.

W7 (throughput). Every server echoes on 127.0.0.1, pinned to CPU 0 (`taskset -c 0`);
the load generator bench/w7/echo_load.c (C, epoll, one thread) is pinned to CPU 1 and
runs N connections, each in a closed loop (send one message, wait for the whole echo,
send the next) for a fixed time after a warm-up. Four configurations: 1 KiB and 64 KiB
messages at 10 and 100 connections. Servers:
  asyncio-cpp protocol   loop.create_server + a Protocol whose data_received writes back
  asyncio-cpp streams    start_server; handler loops read(65536) / write / drain
  asyncio-cpp sock_*     sock_accept / sock_recv(65536) / sock_sendall (seed 004's shape)
  cpython, uvloop        the same two shapes (bench/peers/python/echo_server.py)
  go1                    net package, goroutine per connection, GOMAXPROCS=1
  tokio                  current-thread runtime, task per connection
  asio                   Boost.Asio C++20 coroutines, one io_context
  raw-epoll              bench/w7/raw_echo.c: the floor, and the generator's ceiling
Every server sets TCP_NODELAY (CPython's, uvloop's and Go's default). The raw epoll
server always runs: the report checks that the generator drove it faster than every
other server in each configuration (so the generator was not what limited them), and
gives the generator's own CPU use per run.

W7m (memory). Each server runs its line-echo shape (a handler waiting in readline /
ReadString / read_line / async_read_until); a client (echo_load hold) opens 10,000
connections and holds them idle. The server's VmRSS (/proc/PID/status) is read before
and after, once its fd count shows every connection accepted and its RSS has settled;
the table gives the growth per connection. Afterwards every connection is checked to
still echo a line. The soft fd limit of the servers and the client is raised to the
hard limit.
"""

import os
import re
import resource
import selectors
import shutil
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers")
W7_DIR = os.path.join(HERE, "w7")
SYS_PYTHON = "/usr/bin/python3"
OURS = "asyncio-cpp"

CONFIGS = [(1024, 10), (1024, 100), (65536, 10), (65536, 100)]
GOAL_CONFIG = (1024, 100)
SERVER_CPU, CLIENT_CPU = "0", "1"
MEM_CONNS_FULL, MEM_CONNS_QUICK = 10000, 2000

LOAD_RE = re.compile(
    r"^LOAD conns=(?P<conns>\d+) size=(?P<size>\d+) secs=(?P<secs>[0-9.]+) msgs=(?P<msgs>\d+) "
    r"msgs_per_s=(?P<mps>[0-9.]+) mib_per_s=(?P<mib>[0-9.]+) p50_us=(?P<p50>[0-9.]+) "
    r"p99_us=(?P<p99>[0-9.]+) p999_us=(?P<p999>[0-9.]+) cpu_pct=(?P<cpu>[0-9.]+) "
    r"all_msgs=(?P<all>\d+)\s*$")


def net_binary(exe):
    """asyncio_bench_net next to the given asyncio_bench (the network workloads' binary), or
    `exe` itself when there is none (a binary built before the split, with every workload)."""
    net = os.path.join(os.path.dirname(exe), "asyncio_bench_net")
    return net if os.access(net, os.X_OK) else exe


def _log(msg):
    import sys
    print(msg, file=sys.stderr, flush=True)


def _run(cmd, cwd=None, env=None, timeout=900):
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return p.returncode, p.stdout
    except (OSError, subprocess.SubprocessError) as e:
        return 1, str(e)


def _newer(srcs, out):
    if not os.path.exists(out):
        return True
    t = os.path.getmtime(out)
    return any(os.path.getmtime(s) > t for s in srcs)


def _raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """One echo server variant: a table label, the impl it belongs to, and its commands."""

    def __init__(self, label, impl, echo_argv, lines_argv, env=None):
        self.label, self.impl = label, impl
        self.echo_argv, self.lines_argv = echo_argv, lines_argv
        self.env = env or {}


class W7:
    def __init__(self, build_dir, peers):
        self.build_dir = build_dir
        self.peers = peers              # run_bench.Peers: notes, versions, ours' path
        self.servers = []
        self.loadgen = None
        self.taskset = shutil.which("taskset")

    def note(self, msg):
        self.peers.notes.append(f"W7: {msg}")
        _log(f"[build] W7: {msg}")

    # ------------------------------------------------------------ builds
    def build(self, wanted):
        cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
        if not cc:
            self.note("no C compiler (apt-get install gcc): W7 not run")
            return False
        built = {}
        for name in ("echo_load", "raw_echo"):
            src = os.path.join(W7_DIR, name + ".c")
            out = os.path.join(self.build_dir, name)
            if _newer([src], out):
                _log(f"[build] {os.path.basename(cc)} -O2 {name}.c")
                rc, text = _run([cc, "-O2", "-Wall", "-o", out, src])
                if rc != 0:
                    self.note(f"{name}.c failed to compile: W7 not run\n{text[-2000:]}")
                    return False
            built[name] = out
        self.loadgen = built["echo_load"]
        if not self.taskset:
            self.note("no taskset: servers and generator are not pinned")

        self._add_ours(wanted)
        if ("cpython" in wanted or "uvloop" in wanted) and os.path.exists(SYS_PYTHON):
            script = os.path.join(PEERS, "python", "echo_server.py")
            for impl in ("cpython", "uvloop"):
                if impl not in wanted or impl not in self.peers.cmds:
                    continue
                pre = [SYS_PYTHON, script] + (["--uvloop"] if impl == "uvloop" else [])
                self.servers.append(Server(f"{impl} protocol", impl, pre + ["proto"], pre + ["lines"]))
                self.servers.append(Server(f"{impl} streams", impl, pre + ["streams"], None))
        if "go" in wanted or "go1" in wanted:
            self._build_go()
        if "tokio" in wanted:
            self._build_tokio()
        if "asio" in wanted:
            self._build_asio()
        raw = built["raw_echo"]
        self.servers.append(Server("raw-epoll", "raw-epoll", [raw], [raw]))
        return True

    def _add_ours(self, wanted):
        if OURS not in wanted or OURS not in self.peers.cmds:
            return
        # The network workloads live in asyncio_bench_net, beside asyncio_bench (bench/CMakeLists.txt).
        exe = net_binary(self.peers.cmds[OURS][0][0])
        # The binary lists its workloads on stderr when run without arguments.
        p = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        names = set(p.stderr.replace(":", " ").split())
        lines = [exe, "W7lines"] if "W7lines" in names else None
        found = False
        for workload, label in (("W7proto", "protocol"), ("W7streams", "streams"), ("W7sock", "sock_*")):
            if workload in names:
                found = True
                self.servers.append(Server(f"{OURS} {label}", OURS, [exe, workload],
                                           lines if workload == "W7proto" else None))
        if lines and "W7proto" not in names:
            self.servers.append(Server(f"{OURS} streams (lines)", OURS, None, lines))
        if not found:
            self.note(f"{OURS}: this asyncio_bench_net has no W7 servers (W7proto/W7streams); not run")
        elif not {"W7proto", "W7streams"} <= names:
            self.note(f"{OURS}: this asyncio_bench_net lacks W7proto or W7streams; those rows are missing")

    def _build_go(self):
        go = shutil.which("go") or ("/usr/lib/go/bin/go" if os.path.exists("/usr/lib/go/bin/go") else None)
        if not go:
            self.note("go1: no go toolchain (apt-get install golang-go)")
            return
        out = os.path.join(self.build_dir, "go_echo")
        env = dict(os.environ)
        env.update(GOCACHE=os.path.join(self.build_dir, "go-cache"),
                   GOPATH=os.path.join(self.build_dir, "go-path"),
                   GOFLAGS="", GO111MODULE="on", GOTOOLCHAIN="local", CGO_ENABLED="0")
        _log("[build] go build ./echo")
        rc, text = _run([go, "build", "-o", out, "./echo"], cwd=os.path.join(PEERS, "go"), env=env)
        if rc != 0:
            self.note("go1: go build ./echo failed\n" + text[-2000:])
            return
        self.servers.append(Server("go1", "go1", [out, "echo"], [out, "lines"], {"GOMAXPROCS": "1"}))

    def _build_tokio(self):
        if os.path.exists("/usr/bin/cargo"):
            cargo, rustc = "/usr/bin/cargo", ("/usr/bin/rustc" if os.path.exists("/usr/bin/rustc") else None)
        else:
            cargo, rustc = shutil.which("cargo"), shutil.which("rustc")
        registry = "/usr/share/cargo/registry"
        if not cargo or not rustc or not os.path.isdir(registry):
            self.note("tokio: no cargo/rustc or no vendored crates (apt-get install cargo rustc librust-tokio-dev)")
            return
        src = os.path.join(PEERS, "tokio_echo")
        work = os.path.join(self.build_dir, "tokio-echo-src")
        for rel in ("Cargo.toml", "Cargo.lock", os.path.join(".cargo", "config.toml"),
                    os.path.join("src", "main.rs")):
            s, d = os.path.join(src, rel), os.path.join(work, rel)
            if not os.path.exists(s):
                continue
            os.makedirs(os.path.dirname(d), exist_ok=True)
            if not os.path.exists(d) or open(s).read() != open(d).read():
                shutil.copyfile(s, d)
        env = dict(os.environ)
        env.update(CARGO_TARGET_DIR=os.path.join(self.build_dir, "tokio-target"), RUSTC=rustc,
                   CARGO_HOME=os.path.join(self.build_dir, "cargo-home"))
        _log(f"[build] cargo build --release (tokio_echo, {cargo})")
        rc, text = _run([cargo, "build", "--release", "--offline"], cwd=work, env=env)
        if rc != 0:
            self.note("tokio: cargo build of tokio_echo failed\n" + text[-2000:])
            return
        exe = os.path.join(self.build_dir, "tokio-target", "release", "tokio_echo")
        self.servers.append(Server("tokio", "tokio", [exe, "echo"], [exe, "lines"]))

    def _build_asio(self):
        cxx = os.environ.get("CXX") or shutil.which("g++")
        if not cxx or not os.path.exists("/usr/include/boost/asio.hpp"):
            self.note("asio: no g++ or no Boost.Asio (apt-get install g++ libboost1.81-dev)")
            return
        src = os.path.join(PEERS, "asio", "asio_echo.cpp")
        out = os.path.join(self.build_dir, "asio_echo")
        if _newer([src], out):
            _log(f"[build] {os.path.basename(cxx)} -O2 -std=c++20 asio_echo.cpp")
            rc, text = _run([cxx, "-O2", "-std=c++20", "-DNDEBUG", src, "-o", out])
            if rc != 0:
                self.note("asio: asio_echo.cpp failed to compile\n" + text[-2000:])
                return
        self.servers.append(Server("asio", "asio", [out, "echo"], [out, "lines"]))

    # ------------------------------------------------------------ processes
    def _pin(self, cpu, argv):
        return (["taskset", "-c", cpu] + argv) if self.taskset else argv

    def start(self, srv, argv):
        """Starts a server; returns (Popen, port, stderr file) or raises RuntimeError."""
        env = dict(os.environ)
        env.pop("GOMAXPROCS", None)
        env.update(srv.env)
        err = tempfile.TemporaryFile(mode="w+")
        p = subprocess.Popen(self._pin(SERVER_CPU, argv), env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=err, text=True,
                             preexec_fn=_raise_nofile)
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and p.poll() is None:
            if sel.select(timeout=0.2):
                line = p.stdout.readline()
                break
        sel.close()
        m = re.match(r"^PORT (\d+)\s*$", line)
        if not m:
            self.stop(p)
            err.seek(0)
            raise RuntimeError(f"no 'PORT n' line from {' '.join(argv)} (got {line!r}); "
                               f"stderr: {err.read()[-400:]}")
        return p, int(m.group(1)), err

    @staticmethod
    def stop(p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p.stdout:
            p.stdout.close()

    @staticmethod
    def cpu_ns(pid):
        """CPU time of every thread of `pid` so far, in ns (/proc/PID/task/*/schedstat)."""
        total = 0
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                        total += int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
        except OSError:
            return None
        return total

    def load(self, port, size, conns, secs, warm, server_pid=None):
        cpu0 = self.cpu_ns(server_pid) if server_pid else None
        cmd = self._pin(CLIENT_CPU, [self.loadgen, "run", "127.0.0.1", str(port), str(conns),
                                     str(size), f"{secs:g}", f"{warm:g}"])
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=secs + warm + 60)
        except subprocess.TimeoutExpired:
            return None, "generator timed out"
        m = next((LOAD_RE.match(ln) for ln in p.stdout.splitlines() if ln.startswith("LOAD ")), None)
        if p.returncode != 0 or not m:
            return None, f"generator exit {p.returncode}: {p.stderr.strip()[-300:]}"
        cpu1 = self.cpu_ns(server_pid) if server_pid else None
        cpu_us = (cpu1 - cpu0) / 1e3 / int(m["all"]) if cpu0 is not None and cpu1 and int(m["all"]) else None
        return {"server_cpu_us_per_msg": cpu_us, "msgs_per_s": float(m["mps"]), "mib_per_s": float(m["mib"]), "p50_us": float(m["p50"]),
                "p99_us": float(m["p99"]), "p999_us": float(m["p999"]), "gen_cpu_pct": float(m["cpu"]),
                "msgs": int(m["msgs"]), "secs": float(m["secs"])}, None

    # ------------------------------------------------------------ rounds of servers
    def run_servers(self, tag, repeat, cases, measure, describe, record):
        """`repeat` rounds; in each, every server is started once and measured on every case
        in turn (measure(port, case, pid) -> (result, why); result None on failure), then
        stopped, so that servers interleave and drift in the machine spreads over all of
        them. record(round, server, case, result) keeps each result. A server that fails
        to start, exits or fails a case is left out of later rounds.
        Returns {server label: what failed}."""
        failures = {}
        for r in range(repeat):
            for srv in self.servers:
                if srv.label in failures or not srv.echo_argv:
                    continue
                try:
                    p, port, err = self.start(srv, srv.echo_argv)
                except RuntimeError as e:
                    failures[srv.label] = str(e)
                    _log(f"[run] {tag} {srv.label}: FAILED: {e}")
                    continue
                try:
                    for case in cases:
                        res, why = measure(port, case, p.pid)
                        if res is None or p.poll() is not None:
                            err.seek(0)
                            failures[srv.label] = f"{describe(case)}: {why or 'server exited'}; " \
                                                  f"server stderr: {err.read()[-300:]}"
                            _log(f"[run] {tag} {srv.label}: FAILED: {failures[srv.label]}")
                            break
                        record(r, srv, case, res)
                finally:
                    self.stop(p)
                    err.close()
        return failures

    # ------------------------------------------------------------ W7: throughput
    def run_throughput(self, repeat, secs, warm):
        results = {}    # (label, size, conns) -> [run dicts]
        runs = []

        def measure(port, case, pid):
            size, conns = case
            return self.load(port, size, conns, secs, warm, pid)

        def record(r, srv, case, res):
            size, conns = case
            res.update(workload="W7", impl=srv.label, size=size, conns=conns)
            runs.append(res)
            results.setdefault((srv.label, size, conns), []).append(res)
            _log(f"[run {r + 1}/{repeat}] W7 {srv.label:22s} {size:6d} B x {conns:3d}: "
                 f"{res['msgs_per_s']:10.0f} msg/s  {res['mib_per_s']:8.1f} MiB/s  "
                 f"p99 {res['p99_us']:8.1f} us  generator CPU {res['gen_cpu_pct']:3.0f} %  "
                 f"server {res['server_cpu_us_per_msg'] or 0:.2f} us CPU/msg")

        failures = self.run_servers("W7", repeat, CONFIGS, measure,
                                    lambda case: f"{case[0]} B x {case[1]}", record)
        return self.throughput_report(results, failures, repeat, secs, warm), runs, bool(failures)

    def throughput_report(self, results, failures, repeat, secs, warm):
        def med(label, size, conns, key):
            rs = results.get((label, size, conns))
            return statistics.median(x[key] for x in rs) if rs else None

        labels = [s.label for s in self.servers if s.echo_argv]

        def fmt_cpu(label, size, conns):
            vals = [x["server_cpu_us_per_msg"] for x in results.get((label, size, conns), [])
                    if x.get("server_cpu_us_per_msg") is not None]
            return f"{statistics.median(vals):.2f}" if vals else "–"
        out = [f"### W7: TCP echo, closed loop, servers on CPU {SERVER_CPU}, C epoll load generator "
               f"on CPU {CLIENT_CPU}", "",
               f"Each run: {warm:g} s warm-up, then {secs:g} s measured; medians of {repeat} runs. "
               "msg/s = echoed messages per second over all connections; MiB/s = echoed payload "
               "(one direction); latency = one message's round trip; gen CPU = the generator's own "
               "CPU use (well below 100 % means it was waiting for the server); server CPU µs/msg = "
               "the server's CPU time (all its threads, /proc/PID/task/*/schedstat) over the whole "
               "run divided by the messages echoed: the cost of one echo, which holds better than "
               "msg/s when the machine is busy.", ""]
        ours_p = f"{OURS} protocol"
        for size, conns in CONFIGS:
            out.append(f"#### {size // 1024} KiB messages, {conns} connections")
            out.append("")
            out.append("| server | runs | msg/s | MiB/s | p50 µs | p99 µs | p99.9 µs | gen CPU % | "
                       "server CPU µs/msg | ours (protocol) / server |")
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            ours_v = med(ours_p, size, conns, "msgs_per_s")
            for label in labels:
                rs = results.get((label, size, conns))
                if not rs:
                    if label in failures:
                        out.append(f"| {label} | 0 | FAILED: {failures[label][:150]} |")
                    continue
                v = med(label, size, conns, "msgs_per_s")
                ratio = f"{ours_v / v:.2f}" if ours_v and v else "–"
                out.append(f"| {label} | {len(rs)} | {v:,.0f} | {med(label, size, conns, 'mib_per_s'):,.1f} | "
                           f"{med(label, size, conns, 'p50_us'):.0f} | {med(label, size, conns, 'p99_us'):.0f} | "
                           f"{med(label, size, conns, 'p999_us'):.0f} | "
                           f"{med(label, size, conns, 'gen_cpu_pct'):.0f} | {fmt_cpu(label, size, conns)} | {ratio} |")
            raw = med("raw-epoll", size, conns, "msgs_per_s")
            others = [(med(lb, size, conns, "msgs_per_s"), lb) for lb in labels
                      if lb != "raw-epoll" and results.get((lb, size, conns))]
            if raw is None:
                out.append("")
                out.append("Generator ceiling: no raw-epoll result, the generator is NOT shown to be "
                           "out of the way.")
            elif others:
                best, best_label = max(others)
                ok = raw > best
                out.append("")
                out.append(f"Generator ceiling: it drove raw-epoll at {raw:,.0f} msg/s, "
                           f"{'above' if ok else 'NOT above'} the fastest other server "
                           f"({best_label}, {best:,.0f} msg/s, {best / raw:.2f} of raw)"
                           + ("." if ok else ": the generator may be the limit for that server."))
            out.append("")

        out.append("#### W7 goals (ratios of medians from this run)")
        out.append("")
        out.append("msg/s ratio = throughput of the first over the second; CPU ratio = the second's "
                   "server CPU µs/msg over the first's (the same comparison by cost per echo, "
                   "above 1 = the first is cheaper).")
        out.append("")
        out.append("| ratio | config | msg/s ratio | CPU ratio | goal | met (msg/s) |")
        out.append("|---|---|---:|---:|---:|---|")

        def cpu_med(label, size, conns):
            vals = [x["server_cpu_us_per_msg"] for x in results.get((label, size, conns), [])
                    if x.get("server_cpu_us_per_msg")]
            return statistics.median(vals) if vals else None

        def goal_row(name, a, b, size, conns, goal):
            va, vb = med(a, size, conns, "msgs_per_s"), med(b, size, conns, "msgs_per_s")
            cfg = f"{size // 1024} KiB / {conns} conns"
            if va is None or vb is None:
                out.append(f"| {name} | {cfg} | – | – | ≥ {goal:.2f} | not measured |")
                return
            ca, cb = cpu_med(a, size, conns), cpu_med(b, size, conns)
            cpu_ratio = f"{cb / ca:.2f}" if ca and cb else "–"
            ratio = va / vb
            out.append(f"| {name} | {cfg} | {ratio:.2f} | {cpu_ratio} | ≥ {goal:.2f} | "
                       f"{'yes' if ratio >= goal else 'NO'} |")

        gs, gc = GOAL_CONFIG
        goal_row("ours (protocol) / go1", ours_p, "go1", gs, gc, 1.0)
        goal_row("ours (protocol) / raw-epoll", ours_p, "raw-epoll", gs, gc, 0.9)
        for size, conns in CONFIGS:
            goal_row("ours (streams) / ours (protocol)", f"{OURS} streams", ours_p, size, conns, 0.85)
        out.append("")
        if not any(k[0] == ours_p for k in results):
            out.append("(no asyncio-cpp result: goals not measured)")
            out.append("")
        return "\n".join(out)

    # ------------------------------------------------------------ W7m: memory
    @staticmethod
    def vmrss_kb(pid):
        try:
            with open(f"/proc/{pid}/status") as f:
                for ln in f:
                    if ln.startswith("VmRSS:"):
                        return int(ln.split()[1])
        except OSError:
            pass
        return None

    @staticmethod
    def nfds(pid):
        try:
            return len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            return -1

    def settle(self, pid, min_fds, timeout=60):
        """Waits until the server holds min_fds fds and its RSS stops moving; returns VmRSS."""
        deadline = time.monotonic() + timeout
        while self.nfds(pid) < min_fds:
            if time.monotonic() > deadline:
                raise RuntimeError(f"server holds {self.nfds(pid)} fds, expected {min_fds}")
            time.sleep(0.1)
        prev = self.vmrss_kb(pid)
        stable = 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.25)
            cur = self.vmrss_kb(pid)
            if cur is None:
                raise RuntimeError("server exited")
            stable = stable + 1 if abs(cur - prev) <= max(16, prev // 200) else 0
            prev = cur
            if stable >= 3:
                break
        return prev

    def run_memory_one(self, srv, n):
        p, port, err = self.start(srv, srv.lines_argv)
        hold = None
        try:
            empty = self.settle(p.pid, 0, timeout=10)
            fds0 = self.nfds(p.pid)
            hold = subprocess.Popen(self._pin(CLIENT_CPU, [self.loadgen, "hold", "127.0.0.1", str(port),
                                                           str(n), str(p.pid)]),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, preexec_fn=_raise_nofile)
            line = self._readline(hold, 240)
            if not line.startswith(f"CONNECTED {n}"):
                raise RuntimeError(f"hold client: {line!r} {hold.stderr.read()[-300:] if hold.poll() is not None else ''}")
            full = self.settle(p.pid, fds0 + n)
            hold.stdin.write("check\n")
            hold.stdin.flush()
            line = self._readline(hold, 240)
            m = re.match(r"^CHECKED ok=(\d+) failed=(\d+)", line)
            if not m or int(m.group(1)) != n:
                raise RuntimeError(f"after the measurement, not every connection echoed a line: {line!r}")
            return {"workload": "W7m", "impl": srv.impl, "conns": n, "empty_kb": empty,
                    "full_kb": full, "per_conn_b": (full - empty) * 1024.0 / n}
        finally:
            if hold is not None:
                try:
                    hold.stdin.write("close\n")
                    hold.stdin.close()
                except OSError:
                    pass
                try:
                    hold.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    hold.kill()
                    hold.wait()
            self.stop(p)
            err.close()

    @staticmethod
    def _readline(proc, timeout):
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if sel.select(timeout=0.5):
                    return proc.stdout.readline()
                if proc.poll() is not None:
                    return ""
            return ""
        finally:
            sel.close()

    def run_memory(self, n, repeat):
        results, failures, runs = {}, {}, []
        servers = [s for s in self.servers if s.lines_argv]
        for r in range(repeat):
            for srv in servers:
                if srv.impl in failures:
                    continue
                try:
                    res = self.run_memory_one(srv, n)
                except (RuntimeError, OSError) as e:
                    failures[srv.impl] = str(e)
                    _log(f"[run] W7m {srv.impl}: FAILED: {e}")
                    continue
                runs.append(res)
                results.setdefault(srv.impl, []).append(res)
                _log(f"[run {r + 1}/{repeat}] W7m {srv.impl:22s} empty {res['empty_kb']} kB, "
                     f"{n} idle conns {res['full_kb']} kB: {res['per_conn_b']:.0f} B/conn")
        out = [f"### W7m: {n:,} idle stream connections (handler waiting in readline), server RSS", "",
               "VmRSS of the server from /proc/PID/status, empty (listening) and with every connection "
               f"accepted and idle; medians of {repeat} runs. Afterwards every connection was checked "
               "to echo a line. Goal: asyncio-cpp ≤ 2 KiB per connection.", "",
               "| server | runs | empty RSS MiB | RSS with conns MiB | bytes per connection | ours / server |",
               "|---|---:|---:|---:|---:|---:|"]
        ours_pc = statistics.median(x["per_conn_b"] for x in results[OURS]) if OURS in results else None
        for srv in servers:
            rs = results.get(srv.impl)
            name = srv.impl
            if not rs:
                if srv.impl in failures:
                    out.append(f"| {name} | 0 | FAILED: {failures[srv.impl][:150]} |")
                continue
            pc = statistics.median(x["per_conn_b"] for x in rs)
            ratio = f"{ours_pc / pc:.2f}" if ours_pc is not None and pc > 0 else "–"
            out.append(f"| {name} | {len(rs)} | {statistics.median(x['empty_kb'] for x in rs) / 1024:.1f} | "
                       f"{statistics.median(x['full_kb'] for x in rs) / 1024:.1f} | {pc:,.0f} | {ratio} |")
        out.append("")
        if ours_pc is not None:
            out.append(f"Goal ours ≤ 2,048 B per connection: {ours_pc:,.0f} B, "
                       f"{'met' if ours_pc <= 2048 else 'NOT met'}.")
        else:
            out.append("(no asyncio-cpp result: goal not measured)")
        out.append("")
        return "\n".join(out), runs, bool(failures)
