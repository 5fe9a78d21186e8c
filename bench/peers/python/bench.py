#!/usr/bin/python3
"""CPython asyncio / uvloop peer for the asyncio-cpp benchmarks.

Usage:
    /usr/bin/python3 bench.py [--uvloop] W1 N [D]
    /usr/bin/python3 bench.py [--uvloop] W2g N
    /usr/bin/python3 bench.py [--uvloop] W2w N
    /usr/bin/python3 bench.py [--uvloop] W3 N
    /usr/bin/python3 bench.py [--uvloop] W4 N
    /usr/bin/python3 bench.py [--uvloop] W5 TASKS ITERS
    /usr/bin/python3 bench.py [--uvloop] W6t N
    /usr/bin/python3 bench.py [--uvloop] W6s N

Prints exactly one line on stdout:
    RESULT impl=<cpython|uvloop> workload=<W> n=<N> wall_s=<f> rss_kb=<i> ns_per_op=<f>
For W5, n = TASKS * ITERS (one op = one locked increment); for W4 one op is one round trip;
for W6t one op is one to_thread() round trip; for W6s one op is one call_soon_threadsafe callback.
A failed self-check prints a message on stderr and exits with status 1.
"""

import asyncio
import resource
import sys
import threading
import time


def lcg_delay(i):
    """Per-index pseudo-random delay in [0, 1) s, identical in every peer."""
    x = (i * 2654435761 + 12345) & 0xFFFFFFFF
    return (x % 1000) / 1000.0


def expected_w2(n):
    fails = 0
    for i in range(n):
        if lcg_delay(i) > 0.4:
            fails += 1
    return fails


class WorkerError(Exception):
    pass


def die(msg):
    print(f"self-check failed: {msg}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- W1
async def w1(n, d):
    async def sleeper():
        await asyncio.sleep(d)

    t0 = time.perf_counter()
    tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    await asyncio.gather(*tasks)
    return time.perf_counter() - t0


# ---------------------------------------------------------------- W2
async def w2_worker(i):
    delay = lcg_delay(i)
    await asyncio.sleep(delay)
    if delay > 0.4:
        raise WorkerError(i)
    return i


async def w2g(n):
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(w2_worker(i)) for i in range(n)]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    wall = time.perf_counter() - t0
    fails = sum(1 for r in results if isinstance(r, WorkerError))
    oks = sum(1 for r in results if not isinstance(r, BaseException))
    if fails != expected_w2(n) or fails + oks != n:
        die(f"W2g fails={fails} oks={oks}")
    return wall


async def w2w(n):
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(w2_worker(i)) for i in range(n)]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    if not any(t.exception() is not None for t in done):
        die("W2w: no exception observed at FIRST_EXCEPTION")
    # Comparable with the peers: do not cancel, wait for the rest to finish.
    if pending:
        await asyncio.wait(pending)
    wall = time.perf_counter() - t0
    fails = sum(1 for t in tasks if t.exception() is not None)
    if fails != expected_w2(n):
        die(f"W2w fails={fails}")
    return wall


# ---------------------------------------------------------------- W3
async def w3(n):
    async def trivial(i):
        return i

    batch = 1000
    total = 0
    t0 = time.perf_counter()
    for b in range(0, n, batch):
        tasks = [asyncio.create_task(trivial(i)) for i in range(b, min(b + batch, n))]
        total += sum(await asyncio.gather(*tasks))
    wall = time.perf_counter() - t0
    if total != n * (n - 1) // 2:
        die(f"W3 sum={total}")
    return wall


# ---------------------------------------------------------------- W4
async def w4(n):
    q1 = asyncio.Queue(1)
    q2 = asyncio.Queue(1)

    async def ping():
        for i in range(n):
            await q1.put(i)
            v = await q2.get()
            if v != i + 1:
                die(f"W4 got {v} want {i + 1}")

    async def pong():
        for _ in range(n):
            v = await q1.get()
            await q2.put(v + 1)

    t0 = time.perf_counter()
    await asyncio.gather(ping(), pong())
    return time.perf_counter() - t0


# ---------------------------------------------------------------- W5
async def w5(tasks, iters):
    lock = asyncio.Lock()
    counter = 0

    async def worker():
        nonlocal counter
        for _ in range(iters):
            async with lock:
                v = counter
                await asyncio.sleep(0)
                counter = v + 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    wall = time.perf_counter() - t0
    if counter != tasks * iters:
        die(f"W5 counter={counter}")
    return wall


# ---------------------------------------------------------------- W6
def inc(i):
    return i + 1


async def w6t(n):
    total = 0
    await asyncio.to_thread(inc, 0)  # start the default executor's worker before timing
    t0 = time.perf_counter()
    for i in range(n):
        total += await asyncio.to_thread(inc, i)
    wall = time.perf_counter() - t0
    if total != n * (n + 1) // 2:
        die(f"W6t sum={total}")
    return wall


def w6s(n, new_loop):
    loop = new_loop()
    counter = 0

    def cb():
        nonlocal counter
        counter += 1
        if counter == n:
            loop.stop()

    def poster():
        for _ in range(n):
            loop.call_soon_threadsafe(cb)

    t0 = time.perf_counter()
    th = threading.Thread(target=poster)
    th.start()
    loop.run_forever()
    wall = time.perf_counter() - t0
    th.join()
    loop.close()
    if counter != n:
        die(f"W6s counter={counter}")
    return wall


def main(argv):
    impl = "cpython"
    new_loop = asyncio.new_event_loop
    if argv and argv[0] == "--uvloop":
        import uvloop
        uvloop.install()
        impl = "uvloop"
        new_loop = uvloop.new_event_loop
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    w = argv[0]
    args = argv[1:]
    if w == "W1":
        n = int(args[0])
        d = float(args[1]) if len(args) > 1 else 1.0
        wall = asyncio.run(w1(n, d))
    elif w == "W2g":
        n = int(args[0]) if args else 100000
        wall = asyncio.run(w2g(n))
    elif w == "W2w":
        n = int(args[0]) if args else 100000
        wall = asyncio.run(w2w(n))
    elif w == "W3":
        n = int(args[0])
        wall = asyncio.run(w3(n))
    elif w == "W4":
        n = int(args[0])
        wall = asyncio.run(w4(n))
    elif w == "W5":
        tasks = int(args[0]) if args else 1000
        iters = int(args[1]) if len(args) > 1 else 100
        n = tasks * iters
        wall = asyncio.run(w5(tasks, iters))
    elif w == "W6t":
        n = int(args[0]) if args else 100000
        wall = asyncio.run(w6t(n))
    elif w == "W6s":
        n = int(args[0]) if args else 1000000
        wall = w6s(n, new_loop)
    else:
        print(f"unknown workload {w}", file=sys.stderr)
        return 2
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"RESULT impl={impl} workload={w} n={n} wall_s={wall:.6f} "
          f"rss_kb={rss} ns_per_op={wall * 1e9 / n:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
