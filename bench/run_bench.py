#!/usr/bin/env python3
"""Run the asyncio-cpp benchmarks side by side with the peers.

Peers (impl names): cpython (Debian /usr/bin/python3 asyncio), uvloop, go
(default GOMAXPROCS), go1 (GOMAXPROCS=1), tokio (current-thread runtime),
asio (Boost.Asio C++20 coroutines, one io_context thread). Ours is
asyncio-cpp, the `asyncio_bench` binary (--ours PATH) for W1-W6, and for W7 and W8
`asyncio_bench_net` beside it (bench/CMakeLists.txt says why they are two).

Workloads (every program takes `<W> args...` and prints one line
`RESULT impl=<impl> workload=<W> n=<N> wall_s=<f> rss_kb=<i> ns_per_op=<f>`):
  W1   N tasks each sleep(D) concurrently, gather all.        args: N D
       (asyncio-cpp: the loop form, `for (auto& t : tasks) co_await t;`)
  W1g  W1 in the gather form, `co_await asyncio::gather(tasks)` (what
       Python users write); asyncio-cpp only: the peers' rows repeat their
       W1 (run once if W1 is also run). W1g's RSS minus W1's is gather's
       own cost.                                               args: N D
  W2g  N tasks sleep an LCG delay in [0,1) s and fail when delay > 0.4;
       gather(return_exceptions=True).                        args: N
  W2w  same tasks; wait(FIRST_EXCEPTION), then (no cancel) wait for the rest.
  W3   spawn N trivial tasks in batches of 1,000, await each batch, sum.
  W4   ping-pong a counter through two queues of capacity 1, N round trips.
  W5   TASKS tasks x ITERS increments of a counter under one async lock,
       yielding inside the critical section; n = TASKS*ITERS.
  W6t  N sequential to_thread() round trips of i+1 through the default
       executor (tokio: spawn_blocking; go: a round trip to a worker
       goroutine over unbuffered channels), sum checked.   args: N
  W6s  another thread posts N callbacks with call_soon_threadsafe, each
       adds one to a counter on the loop, the last stops it (tokio:
       Handle::spawn from a std::thread; go: closures over a cap-1024
       channel run by the main goroutine).                 args: N
Sizes: full W1 1,000,000 x 1.0 s; W2 100,000; W3 1,000,000; W4 1,000,000;
W5 1000x100; W6t 100,000; W6s 1,000,000. --quick: W1 10,000 x 0.2 s;
W2 10,000; W3 100,000; W4 100,000; W5 100x10; W6t 20,000; W6s 200,000.
A peer without a counterpart of a workload (asio for W6) is not run on it
and shows "n/a" in that table.

W7 and W7m (TCP echo throughput, idle-connection memory) are run by
bench/w7_echo.py, whose docstring describes them: each server pinned to CPU 0,
the C load generator (bench/w7/echo_load.c) to CPU 1, whatever --taskset says;
a raw C epoll echo server (bench/w7/raw_echo.c) always runs to show the
generator's ceiling; `go` and `go1` both mean the GOMAXPROCS=1 Go server.
W7 runs --w7-secs seconds per measurement (default 2, --quick 1) after a
warm-up; W7m holds 10,000 idle connections (--quick: 2,000).

W8 (TLS 1.3 echo at 1 KiB and 64 KiB over 50 connections, and the handshake
rate) is run by bench/w8_echo.py, whose docstring describes it: the same
pinning, the C OpenSSL load generator bench/w8/tls_load.c, an OpenSSL server in
a raw epoll loop (bench/w8/tls_raw_echo.c) as the ceiling, --w8-secs seconds per
measurement (default 2, --quick 1).

Each workload runs --repeat K times per impl (runs interleaved across impls
to spread drift); the table shows medians. CPython and uvloop take ~30 s
each for the full W1 (1M tasks), so on full-size W1 they are run
--slow-repeat times (default 1) instead of K.

Usage:
  python3 bench/run_bench.py [--build-dir DIR] [--quick] [--only W1,W3]
      [--impls asyncio-cpp,cpython,uvloop,go,go1,tokio,asio] [--repeat K]
      [--slow-repeat K] [--ours PATH] [--taskset CPU] [--timeout S]
      [--w7-secs S]

--only takes workload names; W2 means W2g and W2w. --taskset CPU pins every
impl but `go` (whose point is the default GOMAXPROCS) to one CPU. Peers are
built into the build dir (default build/bench); a peer whose toolchain is
missing is skipped with a note (bench/install_peers.sh installs them). The
tables are printed and written to <build-dir>/bench_results.md, raw runs to
<build-dir>/bench_results.json. Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.path.join(HERE, "peers")
SYS_PYTHON = "/usr/bin/python3"

WORKLOADS = ["W1", "W1g", "W2g", "W2w", "W3", "W4", "W5", "W6t", "W6s", "W7", "W7m", "W8"]
W7_WORKLOADS = ("W7", "W7m")  # run by bench/w7_echo.py
W8_WORKLOADS = ("W8",)        # run by bench/w8_echo.py
IMPLS = ["asyncio-cpp", "cpython", "uvloop", "go", "go1", "tokio", "asio"]
OURS = "asyncio-cpp"
SLOW_IMPLS = ("cpython", "uvloop")
# Workloads only asyncio-cpp runs in a form of its own: the peers' rows are their runs of
# the workload named here (reused when it was run in the same invocation).
PEER_FORM = {"W1g": "W1"}
SLEEP_WORKLOADS = ("W1", "W1g")  # args N D; overhead is wall minus D
# (impl, workload) pairs a peer has no counterpart for: not run, "n/a" in the table.
NOT_APPLICABLE = {
    ("asio", "W6t"): "no to_thread()/default-executor counterpart in the peer",
    ("asio", "W6s"): "no call_soon_threadsafe counterpart in the peer",
}

FULL = {"W1": ["1000000", "1.0"], "W1g": ["1000000", "1.0"], "W2g": ["100000"], "W2w": ["100000"],
        "W3": ["1000000"], "W4": ["1000000"], "W5": ["1000", "100"],
        "W6t": ["100000"], "W6s": ["1000000"]}
QUICK = {"W1": ["10000", "0.2"], "W1g": ["10000", "0.2"], "W2g": ["10000"], "W2w": ["10000"],
         "W3": ["100000"], "W4": ["100000"], "W5": ["100", "10"],
         "W6t": ["20000"], "W6s": ["200000"]}

DESCR = {
    "W1": "{0} tasks each sleep({1} s), gather (asyncio-cpp: the loop form)",
    "W1g": "{0} tasks each sleep({1} s), gather (asyncio-cpp: the gather form; peers: their W1)",
    "W2g": "{0} tasks, LCG sleep in [0,1) s, fail if > 0.4 s; gather(return_exceptions=True)",
    "W2w": "{0} tasks, LCG sleep in [0,1) s, fail if > 0.4 s; wait(FIRST_EXCEPTION) then the rest",
    "W3": "spawn+await {0} trivial tasks in batches of 1,000 (ns/op per task)",
    "W4": "queue(1) ping-pong, {0} round trips (ns/op per round trip)",
    "W5": "{0} tasks x {1} locked increments with a yield inside the lock (ns/op per increment)",
    "W6t": "{0} sequential to_thread(inc, i) round trips through the default executor (ns/op per trip)",
    "W6s": "another thread posts {0} call_soon_threadsafe callbacks, each +1 on the loop (ns/op per callback)",
}

RESULT_RE = re.compile(
    r"^RESULT impl=(?P<impl>\S+) workload=(?P<w>\S+) n=(?P<n>\d+) "
    r"wall_s=(?P<wall>[0-9.eE+-]+) rss_kb=(?P<rss>-?\d+) ns_per_op=(?P<ns>[0-9.eE+-]+)\s*$")


def cpu_model():
    """lscpu's model name: the CPU differs between machines of the same kind."""
    try:
        p = subprocess.run(["lscpu"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, timeout=10)
        for ln in p.stdout.splitlines():
            if ln.startswith("Model name:"):
                return ln.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return "CPU model unknown"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def lcg_max_delay(n):
    """Largest per-index W2 delay among the first n indices (the sleep floor)."""
    best = 0
    for i in range(n):
        x = (i * 2654435761 + 12345) & 0xFFFFFFFF
        best = max(best, x % 1000)
        if best == 999:
            break
    return best / 1000.0


def newer(src_paths, out):
    if not os.path.exists(out):
        return True
    t = os.path.getmtime(out)
    return any(os.path.getmtime(p) > t for p in src_paths)


def run_cmd(cmd, cwd=None, env=None):
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def tool_version(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=30)
        return p.stdout.strip().splitlines()[0] if p.stdout.strip() else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


# ------------------------------------------------------------------ builds
class Peers:
    def __init__(self, build_dir):
        self.build_dir = build_dir
        self.cmds = {}      # impl -> (argv prefix, env overrides, env removals)
        self.notes = []     # human-readable skip / build notes
        self.versions = {}

    def skip(self, impls, why):
        for i in impls:
            self.notes.append(f"{i}: skipped: {why}")
            log(f"[build] {i}: skipped: {why}")

    def build_python(self, wanted):
        script = os.path.join(PEERS, "python", "bench.py")
        if not os.path.exists(SYS_PYTHON):
            self.skip([i for i in ("cpython", "uvloop") if i in wanted],
                      f"{SYS_PYTHON} not found (apt-get install python3)")
            return
        self.versions["cpython"] = tool_version([SYS_PYTHON, "--version"])
        if "cpython" in wanted:
            self.cmds["cpython"] = ([SYS_PYTHON, script], {}, [])
        if "uvloop" in wanted:
            rc, out = run_cmd([SYS_PYTHON, "-c", "import uvloop; print(uvloop.__version__)"])
            if rc != 0:
                self.skip(["uvloop"], "uvloop not importable by /usr/bin/python3 "
                                      "(apt-get install python3-uvloop)")
            else:
                self.versions["uvloop"] = "uvloop " + out.strip()
                self.cmds["uvloop"] = ([SYS_PYTHON, script, "--uvloop"], {}, [])

    def build_go(self, wanted):
        want = [i for i in ("go", "go1") if i in wanted]
        if not want:
            return
        go = shutil.which("go") or ("/usr/lib/go/bin/go" if os.path.exists("/usr/lib/go/bin/go") else None)
        if not go:
            self.skip(want, "no go toolchain (apt-get install golang-go)")
            return
        src = os.path.join(PEERS, "go")
        out = os.path.join(self.build_dir, "go_bench")
        env = dict(os.environ)
        env.update(GOCACHE=os.path.join(self.build_dir, "go-cache"),
                   GOPATH=os.path.join(self.build_dir, "go-path"),
                   GOFLAGS="", GO111MODULE="on", GOTOOLCHAIN="local", CGO_ENABLED="0")
        log("[build] go build")
        rc, text = run_cmd([go, "build", "-o", out, "."], cwd=src, env=env)
        if rc != 0:
            self.skip(want, "go build failed:\n" + text[-2000:])
            return
        self.versions["go"] = tool_version([go, "version"])
        if "go" in want:
            self.cmds["go"] = ([out], {}, ["GOMAXPROCS"])
        if "go1" in want:
            self.cmds["go1"] = ([out], {"GOMAXPROCS": "1"}, [])

    def build_tokio(self, wanted):
        if "tokio" not in wanted:
            return
        # Prefer Debian's cargo/rustc, which the vendored crates are packaged for.
        if os.path.exists("/usr/bin/cargo"):
            cargo, rustc = "/usr/bin/cargo", ("/usr/bin/rustc" if os.path.exists("/usr/bin/rustc") else None)
        else:
            cargo, rustc = shutil.which("cargo"), shutil.which("rustc")
        if not cargo or not rustc:
            self.skip(["tokio"], "no cargo/rustc (apt-get install cargo rustc)")
            return
        registry = "/usr/share/cargo/registry"
        if not os.path.isdir(registry) or not any(d.startswith("tokio-1") for d in os.listdir(registry)):
            self.skip(["tokio"], "no vendored tokio in /usr/share/cargo/registry "
                                 "(apt-get install librust-tokio-dev)")
            return
        # Build a copy inside the build dir so that target/ and any rewritten
        # Cargo.lock stay out of the source tree.
        src = os.path.join(PEERS, "tokio")
        work = os.path.join(self.build_dir, "tokio-src")
        os.makedirs(os.path.join(work, "src"), exist_ok=True)
        os.makedirs(os.path.join(work, ".cargo"), exist_ok=True)
        for rel in ("Cargo.toml", "Cargo.lock", os.path.join(".cargo", "config.toml"),
                    os.path.join("src", "main.rs")):
            s, d = os.path.join(src, rel), os.path.join(work, rel)
            if not os.path.exists(s):
                continue
            if not os.path.exists(d) or open(s).read() != open(d).read():
                shutil.copyfile(s, d)
        env = dict(os.environ)
        env.update(CARGO_TARGET_DIR=os.path.join(self.build_dir, "tokio-target"), RUSTC=rustc,
                   CARGO_HOME=os.path.join(self.build_dir, "cargo-home"))
        log(f"[build] cargo build --release ({cargo})")
        rc, text = run_cmd([cargo, "build", "--release", "--offline"], cwd=work, env=env)
        if rc != 0:
            self.skip(["tokio"], "cargo build failed:\n" + text[-2000:])
            return
        self.versions["tokio"] = tool_version([rustc, "--version"]) + ", tokio " + \
            max(d for d in os.listdir(registry) if d.startswith("tokio-1"))[len("tokio-"):]
        self.cmds["tokio"] = ([os.path.join(self.build_dir, "tokio-target", "release", "tokio_bench")], {}, [])

    def build_asio(self, wanted):
        if "asio" not in wanted:
            return
        cxx = os.environ.get("CXX") or shutil.which("g++")
        if not cxx:
            self.skip(["asio"], "no C++ compiler (apt-get install g++)")
            return
        if not os.path.exists("/usr/include/boost/asio/experimental/channel.hpp"):
            self.skip(["asio"], "Boost.Asio with experimental/channel.hpp not found "
                                "(apt-get install libboost1.81-dev)")
            return
        src = os.path.join(PEERS, "asio", "asio_bench.cpp")
        out = os.path.join(self.build_dir, "asio_bench")
        if newer([src], out):
            log(f"[build] {os.path.basename(cxx)} -O2 -std=c++20 asio_bench.cpp")
            rc, text = run_cmd([cxx, "-O2", "-std=c++20", "-DNDEBUG", src, "-o", out])
            if rc != 0:
                self.skip(["asio"], "compile failed:\n" + text[-2000:])
                return
        ver = "?"
        try:
            with open("/usr/include/boost/version.hpp") as f:
                m = re.search(r'#define BOOST_LIB_VERSION "([^"]+)"', f.read())
                ver = m.group(1) if m else "?"
        except OSError:
            pass
        self.versions["asio"] = f"Boost {ver}, " + tool_version([cxx, "--version"])
        self.cmds["asio"] = ([out], {}, [])

    def add_ours(self, wanted, ours):
        if OURS not in wanted:
            return
        candidates = [ours] if ours else [
            os.path.join(self.build_dir, "asyncio_bench"),
            os.path.join(ROOT, "build", "release", "bench", "asyncio_bench"),
            os.path.join(ROOT, "build", "asyncio_bench"),
            os.path.join(ROOT, "build", "bench", "asyncio_bench"),
            os.path.join(ROOT, "build", "Release", "asyncio_bench"),
        ]
        candidates = list(dict.fromkeys(os.path.abspath(c) for c in candidates if c))
        for c in candidates:
            if c and os.path.isfile(c) and os.access(c, os.X_OK):
                self.cmds[OURS] = ([os.path.abspath(c)], {}, [])
                self.versions[OURS] = os.path.abspath(c)
                return
        self.skip([OURS], "asyncio_bench not found (looked at: " + ", ".join(candidates)
                  + "); build it or pass --ours PATH; ratios are left out")


# ------------------------------------------------------------------ runs
def run_one(peers, impl, w, args, taskset, timeout):
    prefix, env_set, env_del = peers.cmds[impl]
    env = dict(os.environ)
    for k in env_del:
        env.pop(k, None)
    env.update(env_set)
    # ru_maxrss survives exec and starts from the forking parent's anonymous
    # RSS, so a program forked straight from this (~16 MB) Python process
    # would never report less than that. A /bin/sh in between forks the
    # program from a small process (the trailing `exit` keeps sh from
    # exec'ing it in place), so the figure is the program's own.
    cmd = ["/bin/sh", "-c", '"$@"; exit $?', "sh"] + list(prefix) + [w] + list(args)
    if taskset is not None and impl != "go" and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(taskset)] + cmd
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {timeout} s"
    elapsed = time.monotonic() - t0
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    if p.returncode != 0 or len(lines) != 1:
        return None, f"exit {p.returncode}, {len(lines)} RESULT lines; stderr: {p.stderr.strip()[-500:]}"
    m = RESULT_RE.match(lines[0])
    if not m:
        return None, f"malformed line: {lines[0]!r}"
    if m["impl"] != impl or m["w"] != w:
        return None, f"line names impl={m['impl']} workload={m['w']}, expected {impl} {w}"
    return {"impl": impl, "workload": w, "n": int(m["n"]), "wall_s": float(m["wall"]),
            "rss_kb": int(m["rss"]), "ns_per_op": float(m["ns"]),
            "process_s": round(elapsed, 3), "line": lines[0]}, None


def fmt_ratio(a, b):
    if a is None or b is None or b <= 0:
        return "–"
    return f"{a / b:.2f}"


def table(w, args, impls, results, failures, repeats):
    descr = DESCR[w].format(*[f"{int(a):,}" if a.isdigit() else a for a in args])
    out = [f"### {w}: {descr}", ""]
    has_overhead = w in SLEEP_WORKLOADS + ("W2g", "W2w")
    if w in SLEEP_WORKLOADS:
        floor = float(args[1]) if len(args) > 1 else 1.0
    elif has_overhead:
        floor = lcg_max_delay(int(args[0]))
    med = {}
    for impl in impls:
        rs = results.get(impl, [])
        if rs:
            wall = statistics.median(r["wall_s"] for r in rs)
            med[impl] = {"wall": wall, "rss": statistics.median(r["rss_kb"] for r in rs),
                         "ns": statistics.median(r["ns_per_op"] for r in rs), "k": len(rs),
                         "ovh": (wall - floor) if has_overhead else None}
    ours = med.get(OURS)
    head = ["impl", "runs", "wall s"]
    if has_overhead:
        head.append(f"overhead s (wall − {floor:g})")
    head += ["peak RSS MB", "ns/op", "time ours/peer", "mem ours/peer"]
    if has_overhead:
        head.append("overhead ours/peer")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|")
    na = []
    for impl in impls:
        if (impl, w) in NOT_APPLICABLE:
            out.append("| " + " | ".join([impl, "0"] + ["n/a"] * (len(head) - 2)) + " |")
            na.append(f"{impl}: n/a, {NOT_APPLICABLE[(impl, w)]}")
            continue
        if impl not in med:
            if impl in failures:
                out.append(f"| {impl} | 0 | FAILED: {failures[impl][:120]} |")
            continue
        m = med[impl]
        row = [impl, str(m["k"]), f"{m['wall']:.3f}"]
        if has_overhead:
            row.append(f"{m['ovh']:.3f}")
        row += [f"{m['rss'] / 1024:.1f}", f"{m['ns']:.1f}",
                fmt_ratio(ours and ours["wall"], m["wall"]),
                fmt_ratio(ours and ours["rss"], m["rss"])]
        if has_overhead:
            row.append(fmt_ratio(ours and ours["ovh"], m["ovh"]))
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    if na:
        out += na + [""]
    if ours is None:
        out.append("(no asyncio-cpp result: ratios left out)")
        out.append("")
    return "\n".join(out), med


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 1)[1])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "bench"),
                    help="where peers are built and results written (default build/bench)")
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    ap.add_argument("--only", default="", help="comma list of workloads, e.g. W1,W3 (W2 = W2g,W2w)")
    ap.add_argument("--impls", default="", help="comma list of impls (default all): " + ",".join(IMPLS))
    ap.add_argument("--repeat", type=int, default=3, help="runs per impl and workload (default 3)")
    ap.add_argument("--slow-repeat", type=int, default=1,
                    help="runs for cpython/uvloop on full-size W1 (default 1)")
    ap.add_argument("--ours", default=None, help="path to asyncio_bench (default: look in build dirs)")
    ap.add_argument("--taskset", default=None, help="pin all impls but `go` to this CPU")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per run (default 600)")
    ap.add_argument("--w7-secs", type=float, default=None,
                    help="W7: measured seconds per server and configuration (default 2, --quick 1)")
    ap.add_argument("--w8-secs", type=float, default=None,
                    help="W8: measured seconds per server and configuration (default 2, --quick 1)")
    a = ap.parse_args()

    build_dir = os.path.abspath(a.build_dir)
    os.makedirs(build_dir, exist_ok=True)

    wl = WORKLOADS
    if a.only:
        wl = []
        for tok in a.only.split(","):
            tok = tok.strip()
            names = ["W2g", "W2w"] if tok.upper() == "W2" else [tok]
            for nm in names:
                if nm not in WORKLOADS:
                    ap.error(f"unknown workload {nm!r}; known: {', '.join(WORKLOADS)} (and W2)")
                if nm not in wl:
                    wl.append(nm)
    wanted = IMPLS
    if a.impls:
        wanted = [i.strip() for i in a.impls.split(",") if i.strip()]
        for i in wanted:
            if i not in IMPLS:
                ap.error(f"unknown impl {i!r}; known: {', '.join(IMPLS)}")

    peers = Peers(build_dir)
    peers.add_ours(wanted, a.ours)
    peers.build_python(wanted)
    peers.build_go(wanted)
    peers.build_tokio(wanted)
    peers.build_asio(wanted)
    impls = [i for i in IMPLS if i in wanted and i in peers.cmds]
    w7 = None
    if any(w in W7_WORKLOADS for w in wl):
        import w7_echo
        w7 = w7_echo.W7(build_dir, peers)
        if not w7.build(wanted):
            w7 = None
    w8 = None
    if any(w in W8_WORKLOADS for w in wl):
        import w8_echo
        w8 = w8_echo.W8(build_dir, peers)
        if not w8.build(wanted):
            w8 = None
    if not impls and w7 is None and w8 is None:
        log("nothing to run")
        return 1

    sizes = QUICK if a.quick else FULL
    ran = {}  # workload -> impl -> runs, for PEER_FORM
    all_runs = []
    sections = []
    any_fail = False
    for w in wl:
        if w in W8_WORKLOADS:
            if w8 is None:
                continue
            secs = a.w8_secs or (1.0 if a.quick else 2.0)
            text, runs, failed = w8.run_all(a.repeat, secs, 0.2 if a.quick else 0.5)
            all_runs += runs
            any_fail = any_fail or failed
            sections.append(text)
            print(text, flush=True)
            continue
        if w in W7_WORKLOADS:
            if w7 is None:
                continue
            if w == "W7":
                secs = a.w7_secs or (1.0 if a.quick else 2.0)
                text, runs, failed = w7.run_throughput(a.repeat, secs, 0.2 if a.quick else 0.5)
            else:
                n = w7_echo.MEM_CONNS_QUICK if a.quick else w7_echo.MEM_CONNS_FULL
                text, runs, failed = w7.run_memory(n, a.repeat)
            all_runs += runs
            any_fail = any_fail or failed
            sections.append(text)
            print(text, flush=True)
            continue
        args = sizes[w]
        results, failures = {}, {}
        k_of = {}
        for impl in impls:
            k = a.repeat
            if w in SLEEP_WORKLOADS and not a.quick and impl in SLOW_IMPLS:
                k = min(k, a.slow_repeat)
            k_of[impl] = max(1, k)
        for r in range(max(k_of.values())):
            for impl in impls:
                if r >= k_of[impl] or impl in failures or (impl, w) in NOT_APPLICABLE:
                    continue
                pw = PEER_FORM.get(w, w) if impl != OURS else w
                if pw != w and pw in ran and impl in ran[pw]:
                    if r == 0:  # the peer's own form already ran: reuse its runs
                        results[impl] = list(ran[pw][impl])
                    continue
                res, err = run_one(peers, impl, pw, args, a.taskset, a.timeout)
                if err:
                    failures[impl] = err
                    any_fail = True
                    log(f"[run] {impl} {w} {' '.join(args)}: FAILED: {err}")
                    continue
                log(f"[run {r + 1}/{k_of[impl]}] {res['line']}")
                results.setdefault(impl, []).append(res)
                all_runs.append(res)
        ran[w] = results
        text, _ = table(w, args, impls, results, failures, a.repeat)
        sections.append(text)
        print(text, flush=True)

    header = [
        "# asyncio-cpp vs peers",
        "",
        f"{datetime.datetime.now().isoformat(timespec='seconds')}, {platform.node()}, "
        f"{platform.platform()}, {os.cpu_count()} CPUs ({cpu_model()}); "
        f"{'quick' if a.quick else 'full'} sizes; medians of {a.repeat} runs"
        + (f" ({a.slow_repeat} for cpython/uvloop on W1)" if not a.quick and "W1" in wl else "")
        + (f"; pinned to CPU {a.taskset} (but go)" if a.taskset is not None else ""),
        "",
        "Ratios are asyncio-cpp / peer: below 1 means asyncio-cpp is faster or smaller. "
        "RSS is peak ru_maxrss of the whole process. W1/W2 overhead is wall minus the "
        "longest sleep.",
        "",
    ]
    for impl in impls:
        if impl in peers.versions:
            header.append(f"- {impl}: {peers.versions[impl]}")
    for n in peers.notes:
        header.append(f"- note: {n.splitlines()[0]}")
    header.append("")
    doc = "\n".join(header) + "\n" + "\n".join(sections)
    with open(os.path.join(build_dir, "bench_results.md"), "w") as f:
        f.write(doc)
    with open(os.path.join(build_dir, "bench_results.json"), "w") as f:
        json.dump({"quick": a.quick, "repeat": a.repeat, "runs": all_runs,
                   "notes": peers.notes, "versions": peers.versions}, f, indent=1)
    for n in peers.notes:
        print(f"note: {n.splitlines()[0]}")
    print(f"written: {os.path.join(build_dir, 'bench_results.md')}")
    return 1 if any_fail else 0


if __name__ == "__main__":
    sys.exit(main())
