# W9 client side, aiohttp: N GETs over C keep-alive connections (one task per connection).
# argv: url requests connections [uvloop]. Prints "RESULT wall_s=<s> n=<N>".
import asyncio
import sys
import time

import aiohttp


async def worker(session, url, count):
    for _ in range(count):
        async with session.get(url) as resp:
            await resp.read()
            assert resp.status == 200


async def main(url, n, c):
    conn = aiohttp.TCPConnector(limit=c)
    async with aiohttp.ClientSession(connector=conn) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(session, url, n // c + (i < n % c)) for i in range(c)))
        print("RESULT wall_s=%.6f n=%d" % (time.perf_counter() - t0, n), flush=True)


if len(sys.argv) > 4 and sys.argv[4] == "uvloop":
    import uvloop
    uvloop.install()
asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
