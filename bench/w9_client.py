#!/usr/bin/env python3
"""W9, client side: 20,000 GETs over 50 keep-alive connections to nginx.

nginx (one worker, pinned to core 0, a config this script writes in a temporary prefix)
answers GET /hello with the 13-byte body "Hello, World!". Each client runs pinned to core 1
with 50 tasks (goroutines), one per connection, each sending its share of the requests in
sequence and reading every body:

  asyncio-cpp   asyncio_bench_net W9c (bench/w9_client.cpp): ClientSession, limit=50
  aiohttp       bench/w9/client_aiohttp.py (asyncio's default loop, and uvloop when installed)
  httpx         bench/w9/client_httpx.py (AsyncClient, max_connections=50)
  Go            bench/w9/goclient (net/http, GOMAXPROCS=1)

Reports requests per second and CPU time per request (user + system of the client process),
with each peer's ratio to asyncio-cpp; on a loaded machine the CPU figure is the one to read.

  python3 bench/w9_client.py --ours build/release/bench/asyncio_bench_net [--requests N]
      [--connections C] [--repeat R]
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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_nginx(prefix):
    port = free_port()
    os.makedirs(prefix + "/logs", exist_ok=True)
    conf = f"""daemon off;
master_process on;
worker_processes 1;
user root;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path {prefix}/tmp_body;
  proxy_temp_path {prefix}/tmp_proxy;
  fastcgi_temp_path {prefix}/tmp_fcgi;
  uwsgi_temp_path {prefix}/tmp_uwsgi;
  scgi_temp_path {prefix}/tmp_scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = /hello {{ default_type text/plain; return 200 "Hello, World!"; }}
  }}
}}
"""
    with open(prefix + "/nginx.conf", "w") as f:
        f.write(conf)
    proc = subprocess.Popen(["taskset", "-c", "0", "nginx", "-p", prefix, "-c", prefix + "/nginx.conf",
                             "-e", prefix + "/logs/error.log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    proc.terminate()
    raise RuntimeError("nginx did not start")


def build_go(tmp):
    go = shutil.which("go")
    if not go:
        return None, "go not installed"
    out = os.path.join(tmp, "w9client")
    env = dict(os.environ, GOFLAGS="-mod=mod", GOCACHE=os.path.join(tmp, "gocache"), GOPATH=os.path.join(tmp, "gopath"),
               GOPROXY="off", CGO_ENABLED="0")
    r = subprocess.run([go, "build", "-o", out, "."], cwd=os.path.join(HERE, "w9", "goclient"), env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, "go build failed: " + r.stderr.strip()[:200]
    return out, None


def has_module(name):
    return subprocess.run(["/usr/bin/python3", "-c", "import " + name], capture_output=True).returncode == 0


def run(cmd, env=None):
    """Runs one client pinned to core 1: (requests per second, CPU microseconds per request).
    The CPU time (user + system, from wait4) is the figure to compare on a loaded machine."""
    proc = subprocess.Popen(["taskset", "-c", "1"] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    m = re.search(r"wall_s=([0-9.]+).*?n=(\d+)|n=(\d+) wall_s=([0-9.]+)", out)
    if proc.returncode != 0 or not m:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {out[-300:]} {err[-300:]}")
    wall, n = (float(m.group(1)), int(m.group(2))) if m.group(1) else (float(m.group(4)), int(m.group(3)))
    return n / wall, (ru.ru_utime + ru.ru_stime) * 1e6 / n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True, help="the asyncio_bench_net binary (release build)")
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="asyncio-w9c-")
    nginx, port = start_nginx(tmp)
    url = f"http://127.0.0.1:{port}/hello"
    n, c = str(a.requests), str(a.connections)
    impls = [("asyncio-cpp", [a.ours, "W9c", url, n, c], None)]
    py = "/usr/bin/python3"
    if has_module("aiohttp"):
        impls.append(("aiohttp", [py, os.path.join(HERE, "w9", "client_aiohttp.py"), url, n, c], None))
        if has_module("uvloop"):
            impls.append(("aiohttp+uvloop", [py, os.path.join(HERE, "w9", "client_aiohttp.py"), url, n, c, "uvloop"], None))
    if has_module("httpx"):
        impls.append(("httpx", [py, os.path.join(HERE, "w9", "client_httpx.py"), url, n, c], None))
    go, why = build_go(tmp)
    if go:
        impls.append(("Go net/http", [go, url, n, c], dict(os.environ, GOMAXPROCS="1")))
    else:
        print("Go: not measured:", why)
    results = {}
    try:
        for name, cmd, env in impls:
            best = None
            for _ in range(a.repeat):
                try:
                    r = run(cmd, env)
                    if best is None or r[0] > best[0]:
                        best = r
                except Exception as e:  # reported, the others still run
                    print(f"{name}: {e}")
            if best:
                results[name] = best
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    ours = results.get("asyncio-cpp")
    print(f"\nW9 client: {a.requests} GETs of a 13-byte body over {a.connections} keep-alive connections to "
          f"nginx (1 worker, core 0); client on core 1; best of {a.repeat}")
    print(f"{'client':<16} {'req/s':>10} {'rate: ours/it':>14} {'CPU us/req':>11} {'CPU: it/ours':>13}")
    for name, (rps, cpu) in results.items():
        ratio = f"{ours[0] / rps:.2f}" if ours else "-"
        cpu_ratio = f"{cpu / ours[1]:.2f}" if ours else "-"
        print(f"{name:<16} {rps:>10.0f} {ratio:>14} {cpu:>11.1f} {cpu_ratio:>13}")


if __name__ == "__main__":
    sys.exit(main())
