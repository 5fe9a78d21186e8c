#!/usr/bin/env python3
"""W9 (server side): keep-alive HTTP GET throughput, asyncio-cpp against the peers.

Each server listens on 127.0.0.1 pinned to CPU 0 (`taskset -c 0`); wrk (Debian `wrk`), one
thread pinned to CPU 1, drives 50 keep-alive connections for --secs seconds after a 1 s
warm-up, on two URLs: /13 (a 13-byte body, "Hello, world!") and /64k (65,536 bytes).
Servers:
  asyncio-cpp   bench/w9/w9_server.cpp (asyncio::http::web, access log off)
  aiohttp       aiohttp.web on uvloop (bench/peers/python/http_server.py, access log off)
  go1           net/http, GOMAXPROCS=1 (bench/peers/go/httpserver)
  nginx         one worker, static files, access log off (config written here)
Reported: requests/s per server and URL, and each peer's figure as a ratio to ours.
Goals (issue 12): ours >= 1.0 x Go, >= 5 x aiohttp, >= 0.7 x nginx.

Usage: python3 bench/w9_http.py --ours build/release/bench/asyncio_w9_server [--secs 3]
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_CPU, CLIENT_CPU = "0", "1"
URLS = [("/13", "13 B"), ("/64k", "64 KiB")]
RPS_RE = re.compile(r"Requests/sec:\s+([0-9.]+)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def start(cmd, env=None, cwd=None):
    return subprocess.Popen(["taskset", "-c", SERVER_CPU] + cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, cwd=cwd)


def check(port, path):
    """One GET: the status and body length, to make sure every server answers the same."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    n = len(r.read())
    c.close()
    return r.status, n


def wrk(port, path, secs):
    url = f"http://127.0.0.1:{port}{path}"
    subprocess.run(["taskset", "-c", CLIENT_CPU, "wrk", "-t1", "-c50", "-d1s", url],
                   capture_output=True, text=True, timeout=60)
    out = subprocess.run(["taskset", "-c", CLIENT_CPU, "wrk", "-t1", "-c50", f"-d{secs}s", url],
                         capture_output=True, text=True, timeout=secs + 60).stdout
    m = RPS_RE.search(out)
    errors = "Non-2xx" in out or "Socket errors" in out
    return (float(m.group(1)) if m else None), errors, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--secs", type=int, default=3)
    ap.add_argument("--impls", default="asyncio-cpp,aiohttp,go1,nginx")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian package wrk)")
    tmp = tempfile.mkdtemp(prefix="w9-")
    os.chmod(tmp, 0o755)   # nginx's worker (not root) serves files from here
    servers = {}
    servers["asyncio-cpp"] = lambda port: start([os.path.abspath(a.ours), str(port)])
    servers["aiohttp"] = lambda port: start(["/usr/bin/python3", os.path.join(HERE, "peers/python/http_server.py"), str(port)])
    go_bin = os.path.join(tmp, "httpserver")
    env = dict(os.environ, GOCACHE=os.path.join(tmp, "gocache"), GOFLAGS="-mod=mod", GOPROXY="off")
    r = subprocess.run(["go", "build", "-o", go_bin, "./httpserver"], cwd=os.path.join(HERE, "peers/go"),
                       env=env, capture_output=True, text=True)
    if r.returncode == 0:
        servers["go1"] = lambda port: start([go_bin, str(port)], env=dict(os.environ, GOMAXPROCS="1"))
    else:
        print("go1: build failed:", r.stderr.strip(), file=sys.stderr)
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    with open(os.path.join(www, "13"), "w") as f:
        f.write("Hello, world!")
    with open(os.path.join(www, "64k"), "w") as f:
        f.write("x" * 65536)

    def nginx(port):
        conf = os.path.join(tmp, f"nginx-{port}.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path {tmp}/b; proxy_temp_path {tmp}/p; fastcgi_temp_path {tmp}/f;
  uwsgi_temp_path {tmp}/u; scgi_temp_path {tmp}/s;
  default_type text/plain;
  server {{ listen 127.0.0.1:{port}; root {www}; }} }}
""")
        return start(["nginx", "-c", conf, "-e", f"{tmp}/error.log"])
    if shutil.which("nginx"):
        servers["nginx"] = nginx

    results = {}
    for impl in a.impls.split(","):
        if impl not in servers:
            continue
        port = free_port()
        proc = servers[impl](port)
        try:
            if not wait_port(port):
                print(f"{impl}: did not start", file=sys.stderr)
                continue
            for path, _ in URLS:
                status, n = check(port, path)
                want = 13 if path == "/13" else 65536
                if status != 200 or n != want:
                    print(f"{impl} {path}: answered {status} with {n} bytes, not measured",
                          file=sys.stderr)
                    continue
                rps, errors, out = wrk(port, path, a.secs)
                results[(impl, path)] = rps
                if errors or rps is None:
                    print(f"{impl} {path}: wrk reported errors:\n{out}", file=sys.stderr)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    shutil.rmtree(tmp, ignore_errors=True)

    cpu = "unknown CPU"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    except Exception:
        pass
    print(f"## W9 server: keep-alive GET, wrk -t1 -c50 -d{a.secs}s (CPU 1), server on CPU 0 ({cpu})")
    print()
    print("| server | " + " | ".join(f"{label} req/s | ours / it" for _, label in URLS) + " |")
    print("|---|" + "---|---|" * len(URLS))
    for impl in a.impls.split(","):
        row = [impl]
        for path, _ in URLS:
            v = results.get((impl, path))
            ours = results.get(("asyncio-cpp", path))
            row.append(f"{v:,.0f}" if v else "n/a")
            row.append(f"{ours / v:.2f}x" if v and ours else "n/a")
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
