"""W9's aiohttp peer (with uvloop): GET /13 and /64k, keep-alive, no access log.
Prints "PORT <n>" once listening."""
import asyncio
import sys

import uvloop
from aiohttp import web

SMALL = "Hello, world!"
BIG = "x" * (64 * 1024)


async def small(request):
    return web.Response(text=SMALL)


async def big(request):
    return web.Response(text=BIG)


async def main():
    app = web.Application()
    app.router.add_get("/13", small)
    app.router.add_get("/64k", big)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    await asyncio.Event().wait()


uvloop.install()
asyncio.run(main())
