#!/usr/bin/python3
"""CPython asyncio / uvloop echo servers for the W7 benchmark.

Usage:
    /usr/bin/python3 echo_server.py [--uvloop] [--ssl CERT KEY] proto|streams|lines [PORT]

Listens on 127.0.0.1:PORT (default 0: any free port), prints "PORT <n>" on stdout and
serves until killed.
    proto    loop.create_server with a Protocol whose data_received writes the data back
    streams  asyncio.start_server; the handler loops read(65536) / write / drain
    lines    asyncio.start_server; the handler loops readline / write / drain (the idle
             connections of the memory measurement wait in readline)
Transports set TCP_NODELAY by themselves (CPython and uvloop both do).
--ssl serves TLS (the W8 benchmark) with the certificate chain CERT and private key KEY
(PEM files) through ssl.create_default_context(ssl.Purpose.CLIENT_AUTH), passed as ssl= to
create_server / start_server.
"""

import asyncio
import sys


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return False  # close


async def echo_streams(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def echo_lines(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            writer.write(line)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(mode, port, ssl_ctx=None):
    loop = asyncio.get_running_loop()
    if mode == "proto":
        server = await loop.create_server(EchoProtocol, "127.0.0.1", port, backlog=4096, ssl=ssl_ctx)
    elif mode == "streams":
        server = await asyncio.start_server(echo_streams, "127.0.0.1", port, backlog=4096, ssl=ssl_ctx)
    else:
        server = await asyncio.start_server(echo_lines, "127.0.0.1", port, backlog=4096, ssl=ssl_ctx)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv):
    if argv and argv[0] == "--uvloop":
        import uvloop
        uvloop.install()
        argv = argv[1:]
    ssl_ctx = None
    if argv and argv[0] == "--ssl":
        import ssl
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain(argv[1], argv[2])
        argv = argv[3:]
    if not argv or argv[0] not in ("proto", "streams", "lines"):
        print(__doc__, file=sys.stderr)
        return 2
    port = int(argv[1]) if len(argv) > 1 else 0
    asyncio.run(serve(argv[0], port, ssl_ctx))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
