# W9 client side, httpx: N GETs over C keep-alive connections (one task per connection).
# argv: url requests connections. Prints "RESULT wall_s=<s> n=<N>".
import asyncio
import sys
import time

import httpx


async def worker(client, url, count):
    for _ in range(count):
        resp = await client.get(url)
        assert resp.status_code == 200


async def main(url, n, c):
    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    async with httpx.AsyncClient(limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client, url, n // c + (i < n % c)) for i in range(c)))
        print("RESULT wall_s=%.6f n=%d" % (time.perf_counter() - t0, n), flush=True)


asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
