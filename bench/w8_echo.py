"""W8: TLS 1.3 echo throughput and handshake rate, asyncio-cpp against the peers.

Used by run_bench.py (workload W8); standard library only, plus the openssl command line
(certificates) and a C compiler with OpenSSL's headers (libssl-dev) for the generator and
the raw server.

Every server serves TLS on 127.0.0.1, pinned to CPU 0 (`taskset -c 0`); the load generator
bench/w8/tls_load.c (C on OpenSSL, epoll, one thread, non-blocking SSL_read/SSL_write) is
pinned to CPU 1. It offers TLS 1.3 only, with the one cipher suite TLS_AES_128_GCM_SHA256
and the X25519 group, so every server does the same cryptography (a server negotiating
anything else fails the run). The certificate is made when the benchmark starts, with the
openssl command line, in a temporary directory removed at the end: a self-signed ECDSA
P-256 certificate for localhost / 127.0.0.1, the same file for every server.

Throughput: 50 connections, handshakes done before the clock starts, each connection in a
closed loop (send one message, wait for the whole echo, send the next), 1 KiB and 64 KiB
messages (a 64 KiB message is four 16 KiB TLS records). Handshake rate: 50 slots, each in a
loop of new TCP connection, full TLS 1.3 handshake (the generator keeps no session, so no
resumption), one 1 KiB message and its echo, close_notify, close. Both report the server's
CPU time (all its threads, /proc/PID/task/*/schedstat, sampled by the generator at the
start and end of the measured window) per message or per handshake: on a shared, loaded
machine that cost holds better than the rate.
Servers:
  asyncio-cpp protocol   loop.create_server(..., ServerOptions{.ssl = ctx}) + a Protocol
                         whose data_received writes back
  asyncio-cpp streams    start_server(..., {.ssl = ctx}); handler loops read(65536) /
                         write / drain
  cpython, uvloop        the same two shapes with ssl= (bench/peers/python/echo_server.py
                         --ssl), Debian's /usr/bin/python3 and its ssl module
  go1                    crypto/tls, goroutine per connection, GOMAXPROCS=1
  raw-openssl            bench/w8/tls_raw_echo.c: OpenSSL in a raw epoll loop, the ceiling
                         and the proof that the generator is not the limit
Server-side TLS settings are each library's defaults for a server context (TLS 1.2-1.3;
OpenSSL-based servers send two session tickets after a TLS 1.3 handshake, Go one).
"""

import atexit
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import w7_echo
from w7_echo import OURS, PEERS, SYS_PYTHON, Server, _log, _newer, _run, net_binary

HERE = os.path.dirname(os.path.abspath(__file__))
W8_DIR = os.path.join(HERE, "w8")

CONNS = 50
SIZES = [1024, 65536]
HS_SIZE = 1024
SERVER_CPU, CLIENT_CPU = w7_echo.SERVER_CPU, w7_echo.CLIENT_CPU
RAW = "raw-openssl"
OURS_P, OURS_S = f"{OURS} protocol", f"{OURS} streams"

LOAD_RE = re.compile(
    r"^LOAD conns=(?P<conns>\d+) size=(?P<size>\d+) secs=(?P<secs>[0-9.]+) msgs=(?P<n>\d+) "
    r"msgs_per_s=(?P<rate>[0-9.]+) mib_per_s=(?P<mib>[0-9.]+) p50_us=(?P<p50>[0-9.]+) "
    r"p99_us=(?P<p99>[0-9.]+) p999_us=(?P<p999>[0-9.]+) cpu_pct=(?P<cpu>[0-9.]+) "
    r"all_msgs=(?P<all>\d+) srv_cpu_us=(?P<srv>-?[0-9.]+)\s*$")
HS_RE = re.compile(
    r"^HS conns=(?P<conns>\d+) size=(?P<size>\d+) secs=(?P<secs>[0-9.]+) handshakes=(?P<n>\d+) "
    r"hs_per_s=(?P<rate>[0-9.]+) p50_us=(?P<p50>[0-9.]+) p99_us=(?P<p99>[0-9.]+) "
    r"p999_us=(?P<p999>[0-9.]+) cpu_pct=(?P<cpu>[0-9.]+) all_hs=(?P<all>\d+) "
    r"srv_cpu_us=(?P<srv>-?[0-9.]+)\s*$")


def cpu_model():
    """lscpu's model name: the CPU differs between machines of the same kind."""
    rc, text = _run(["lscpu"], timeout=10)
    for ln in text.splitlines() if rc == 0 else []:
        if ln.startswith("Model name:"):
            return ln.split(":", 1)[1].strip()
    return "CPU model unknown"


def loadavg():
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "?"


class W8(w7_echo.W7):
    """The W8 servers and runs; process handling (start, stop, pinning) is W7's."""

    def __init__(self, build_dir, peers):
        super().__init__(build_dir, peers)
        self.certdir = None
        self.cert = self.key = None
        self.ours_missing = None   # why asyncio-cpp's TLS servers are not in this binary

    def note(self, msg):
        self.peers.notes.append(f"W8: {msg}")
        _log(f"[build] W8: {msg}")

    # ------------------------------------------------------------ builds
    def build(self, wanted):
        cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
        if not cc:
            self.note("no C compiler (apt-get install gcc): W8 not run")
            return False
        if not shutil.which("openssl"):
            self.note("no openssl command line (apt-get install openssl): W8 not run")
            return False
        built = {}
        for name in ("tls_load", "tls_raw_echo"):
            src = os.path.join(W8_DIR, name + ".c")
            out = os.path.join(self.build_dir, name)
            if _newer([src], out):
                _log(f"[build] {os.path.basename(cc)} -O2 {name}.c -lssl -lcrypto")
                rc, text = _run([cc, "-O2", "-Wall", "-o", out, src, "-lssl", "-lcrypto"])
                if rc != 0:
                    self.note(f"{name}.c failed to compile (apt-get install libssl-dev): W8 not run\n"
                              + text[-2000:])
                    return False
            built[name] = out
        self.loadgen = built["tls_load"]
        if not self.taskset:
            self.note("no taskset: servers and generator are not pinned")
        if not self._make_certificate():
            return False
        cert, key = self.cert, self.key

        self._add_ours(wanted)
        if ("cpython" in wanted or "uvloop" in wanted) and os.path.exists(SYS_PYTHON):
            script = os.path.join(PEERS, "python", "echo_server.py")
            for impl in ("cpython", "uvloop"):
                if impl not in wanted or impl not in self.peers.cmds:
                    continue
                pre = [SYS_PYTHON, script] + (["--uvloop"] if impl == "uvloop" else []) + \
                      ["--ssl", cert, key]
                self.servers.append(Server(f"{impl} protocol", impl, pre + ["proto"], None))
                self.servers.append(Server(f"{impl} streams", impl, pre + ["streams"], None))
        if "go" in wanted or "go1" in wanted:
            self._build_go_tls()
        self.servers.append(Server(RAW, RAW, [built["tls_raw_echo"], cert, key], None))
        return True

    def _make_certificate(self):
        self.certdir = tempfile.mkdtemp(prefix="asyncio-w8-")
        atexit.register(self.cleanup)
        self.cert = os.path.join(self.certdir, "cert.pem")
        self.key = os.path.join(self.certdir, "key.pem")
        rc, text = _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", self.key,
                         "-out", self.cert, "-days", "1", "-subj", "/CN=localhost",
                         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], timeout=60)
        if rc != 0:
            self.note("openssl req failed to make the certificate: W8 not run\n" + text[-1000:])
            self.cleanup()
            return False
        return True

    def cleanup(self):
        if self.certdir:
            shutil.rmtree(self.certdir, ignore_errors=True)
            self.certdir = None

    def _add_ours(self, wanted):
        if OURS not in wanted or OURS not in self.peers.cmds:
            return
        # The network workloads live in asyncio_bench_net, beside asyncio_bench (bench/CMakeLists.txt).
        exe = net_binary(self.peers.cmds[OURS][0][0])
        # The binary lists its workloads on stderr when run without arguments.
        p = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        names = set(p.stderr.replace(":", " ").split())
        for workload, label in (("W8proto", OURS_P), ("W8streams", OURS_S)):
            if workload in names:
                self.servers.append(Server(label, OURS, [exe, workload, self.cert, self.key], None))
        if not {"W8proto", "W8streams"} & names:
            self.ours_missing = ("this asyncio_bench_net has no W8 servers (W8proto/W8streams): "
                                 "bench/w8_echo.cpp is built only when the library has ssl= on "
                                 "create_server/start_server (see bench/CMakeLists.txt)")
            self.note(f"{OURS}: {self.ours_missing}")

    def _build_go_tls(self):
        go = shutil.which("go") or ("/usr/lib/go/bin/go" if os.path.exists("/usr/lib/go/bin/go") else None)
        if not go:
            self.note("go1: no go toolchain (apt-get install golang-go)")
            return
        out = os.path.join(self.build_dir, "go_tls_echo")
        env = dict(os.environ)
        env.update(GOCACHE=os.path.join(self.build_dir, "go-cache"),
                   GOPATH=os.path.join(self.build_dir, "go-path"),
                   GOFLAGS="", GO111MODULE="on", GOTOOLCHAIN="local", CGO_ENABLED="0",
                   GOPROXY="off")
        _log("[build] go build ./tlsecho")
        rc, text = _run([go, "build", "-o", out, "./tlsecho"], cwd=os.path.join(PEERS, "go"), env=env)
        if rc != 0:
            self.note("go1: go build ./tlsecho failed\n" + text[-2000:])
            return
        self.servers.append(Server("go1", "go1", [out, self.cert, self.key], None, {"GOMAXPROCS": "1"}))

    # ------------------------------------------------------------ runs
    def load(self, mode, port, size, secs, warm, server_pid):
        cmd = self._pin(CLIENT_CPU, [self.loadgen, mode, "127.0.0.1", str(port), str(CONNS), str(size),
                                     f"{secs:g}", f"{warm:g}", "--server-pid", str(server_pid)])
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=secs + warm + 60)
        except subprocess.TimeoutExpired:
            return None, "generator timed out"
        rx, tag = (LOAD_RE, "LOAD ") if mode == "run" else (HS_RE, "HS ")
        m = next((rx.match(ln) for ln in p.stdout.splitlines() if ln.startswith(tag)), None)
        if p.returncode != 0 or not m:
            return None, f"generator exit {p.returncode}: {p.stderr.strip()[-300:]}"
        srv = float(m["srv"])
        rate = float(m["rate"])
        return {"server_busy_pct": srv * rate / 1e4 if srv >= 0 else None, "rate": float(m["rate"]), "mib_per_s": float(m["mib"]) if mode == "run" else None,
                "p50_us": float(m["p50"]), "p99_us": float(m["p99"]), "p999_us": float(m["p999"]),
                "gen_cpu_pct": float(m["cpu"]), "server_cpu_us": srv if srv >= 0 else None,
                "n": int(m["n"]), "secs": float(m["secs"])}, None

    def run_all(self, repeat, secs, warm):
        """Throughput at each size, then the handshake rate, per server; runs interleaved."""
        load_before = loadavg()
        results, runs = {}, []
        cases = [("run", s) for s in SIZES] + [("hs", HS_SIZE)]

        def measure(port, case, pid):
            mode, size = case
            return self.load(mode, port, size, secs, warm, pid)

        def record(r, srv, case, res):
            mode, size = case
            res.update(workload="W8" if mode == "run" else "W8h", impl=srv.label, size=size,
                       conns=CONNS)
            runs.append(res)
            results.setdefault((srv.label, mode, size), []).append(res)
            unit = "msg/s" if mode == "run" else "hs/s "
            _log(f"[run {r + 1}/{repeat}] W8 {srv.label:22s} {mode:3s} {size:6d} B: "
                 f"{res['rate']:9.0f} {unit}  p99 {res['p99_us']:9.0f} us  "
                 f"generator CPU {res['gen_cpu_pct']:3.0f} %  "
                 f"server {res['server_cpu_us'] or 0:.1f} us CPU each")

        try:
            failures = self.run_servers("W8", repeat, cases, measure,
                                        lambda case: f"{case[0]} {case[1]} B", record)
        finally:
            self.cleanup()
        load_after = loadavg()
        return self.report(results, failures, repeat, secs, warm, load_before, load_after), runs, bool(failures)

    # ------------------------------------------------------------ report
    def report(self, results, failures, repeat, secs, warm, load_before, load_after):
        def med(label, mode, size, key):
            vals = [x[key] for x in results.get((label, mode, size), []) if x.get(key) is not None]
            return statistics.median(vals) if vals else None

        labels = [s.label for s in self.servers]
        out = [f"### W8: TLS 1.3 echo, {CONNS} connections, servers on CPU {SERVER_CPU}, "
               f"C OpenSSL load generator on CPU {CLIENT_CPU}", "",
               f"CPU: {cpu_model()}; load average (1, 5, 15 min) {load_before} before, "
               f"{load_after} after. TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, self-signed ECDSA "
               f"P-256 certificate made at run time. Each measurement: {warm:g} s warm-up, then "
               f"{secs:g} s measured; medians of {repeat} runs. msg/s = echoed messages per second "
               "over all connections; latency = one message's round trip; gen CPU = the "
               "generator's own CPU use (well below 100 % means it was waiting for the server); "
               "server busy = the server's CPU time over the window's wall time (with the "
               "generator's also well below 100 %, the rate was set by how much of the shared "
               "cores the two processes were given, not by either); server CPU µs = the server's CPU time (all threads) in the measured window over "
               "the messages (handshakes) completed in it. Ratios: msg/s of ours over the other, "
               "and the other's CPU µs over ours (above 1 = ours is cheaper).", ""]
        if self.ours_missing:
            out += [f"**asyncio-cpp not measured**: {self.ours_missing}.", ""]
        for mode, size in [("run", s) for s in SIZES] + [("hs", HS_SIZE)]:
            if mode == "run":
                out.append(f"#### Echo, {size // 1024} KiB messages, {CONNS} connections")
                head = "| server | runs | msg/s | MiB/s | p50 µs | p99 µs | gen CPU % | server busy % | " \
                       "server CPU µs/msg | ours (protocol) / server: msg/s | : CPU |"
            else:
                out.append(f"#### Handshakes: new connection, TLS 1.3 handshake, one {size // 1024} KiB echo, "
                           f"close; {CONNS} at a time")
                head = "| server | runs | handshakes/s | p50 ms | p99 ms | gen CPU % | server busy % | " \
                       "server CPU µs/handshake | ours (protocol) / server: hs/s | : CPU |"
            out += ["", head, "|---|" + "---:|" * (head.count("|") - 2)]
            ours_v, ours_c = med(OURS_P, mode, size, "rate"), med(OURS_P, mode, size, "server_cpu_us")
            for label in labels:
                rs = results.get((label, mode, size))
                if not rs:
                    if label in failures:
                        out.append(f"| {label} | 0 | FAILED: {failures[label][:150]} |")
                    continue
                v, c = med(label, mode, size, "rate"), med(label, mode, size, "server_cpu_us")
                ratio = f"{ours_v / v:.2f}" if ours_v and v else "–"
                cratio = f"{c / ours_c:.2f}" if ours_c and c else "–"
                cpu = f"{c:.1f}" if c is not None else "–"
                busy = med(label, mode, size, "server_busy_pct")
                busy = f"{busy:.0f}" if busy is not None else "–"
                if mode == "run":
                    out.append(f"| {label} | {len(rs)} | {v:,.0f} | {med(label, mode, size, 'mib_per_s'):,.1f} | "
                               f"{med(label, mode, size, 'p50_us'):.0f} | {med(label, mode, size, 'p99_us'):.0f} | "
                               f"{med(label, mode, size, 'gen_cpu_pct'):.0f} | {busy} | {cpu} | {ratio} | {cratio} |")
                else:
                    out.append(f"| {label} | {len(rs)} | {v:,.0f} | {med(label, mode, size, 'p50_us') / 1e3:.1f} | "
                               f"{med(label, mode, size, 'p99_us') / 1e3:.1f} | "
                               f"{med(label, mode, size, 'gen_cpu_pct'):.0f} | {busy} | {cpu} | {ratio} | {cratio} |")
            raw = med(RAW, mode, size, "rate")
            others = [(med(lb, mode, size, "rate"), lb) for lb in labels
                      if lb != RAW and results.get((lb, mode, size))]
            out.append("")
            gen_max = max((x["gen_cpu_pct"] for lb in labels for x in results.get((lb, mode, size), [])),
                          default=None)
            gen_note = (f" The generator used at most {gen_max:.0f} % of its CPU in any run of this case"
                        + (" (it waited for the servers, it did not limit them)." if gen_max < 90 else
                           ": it may have been the limit.")) if gen_max is not None else ""
            if raw is None:
                out.append("Generator ceiling: no raw-openssl result, the generator is NOT shown to be "
                           "out of the way." + gen_note)
            elif others:
                best, best_label = max(others)
                ok = raw > best
                out.append(f"Generator ceiling: it drove raw-openssl at {raw:,.0f}/s, "
                           f"{'above' if ok else 'NOT above'} the fastest other server "
                           f"({best_label}, {best:,.0f}/s, {best / raw:.2f} of raw)."
                           + gen_note)
            out.append("")

        out += ["#### W8 goals (ratios of medians from this run)", "",
                "| ratio | case | rate ratio | CPU ratio | goal | met (rate) |",
                "|---|---|---:|---:|---:|---|"]

        def goal(name, a, b, mode, size, target):
            case = f"echo {size // 1024} KiB" if mode == "run" else "handshakes"
            va, vb = med(a, mode, size, "rate"), med(b, mode, size, "rate")
            if va is None or vb is None:
                out.append(f"| {name} | {case} | – | – | ≥ {target:.2f} | not measured |")
                return
            ca, cb = med(a, mode, size, "server_cpu_us"), med(b, mode, size, "server_cpu_us")
            cr = f"{cb / ca:.2f}" if ca and cb else "–"
            out.append(f"| {name} | {case} | {va / vb:.2f} | {cr} | ≥ {target:.2f} | "
                       f"{'yes' if va / vb >= target else 'NO'} |")

        for size in SIZES:
            goal("ours (protocol) / go1", OURS_P, "go1", "run", size, 1.0)
            goal("ours (protocol) / raw-openssl", OURS_P, RAW, "run", size, 0.85)
        goal("ours (protocol) / go1", OURS_P, "go1", "hs", HS_SIZE, 1.0)
        for size in SIZES:
            goal("ours (streams) / go1", OURS_S, "go1", "run", size, 1.0)
        goal("ours (streams) / go1", OURS_S, "go1", "hs", HS_SIZE, 1.0)
        out.append("")
        return "\n".join(out)


if __name__ == "__main__":
    sys.exit("run through bench/run_bench.py --only W8")
