# A forwarding HTTP proxy for the HTTP client's tests (asyncio, one task per connection): it
# prints "PORT:<n>" once listening on 127.0.0.1 and serves until killed. Each request head it
# receives is appended to the log file as one JSON line: {"method", "target",
# "proxy_authorization", "connection"} (connection: the serial number of the client's
# connection to the proxy).
#
#   http_proxy.py LOG [--auth user:password]
#
# - "GET http://host:port/path HTTP/1.1" (absolute form): forwarded to host:port in origin
#   form without the Proxy-* headers; the answer (Content-Length or chunked body) is relayed,
#   and the client's connection is kept for more requests.
# - "CONNECT host:port HTTP/1.1": a tunnel ("200 Connection established"), bytes copied both
#   ways until either side closes; 502 when host:port refuses the connection.
# - With --auth, a request without that Basic Proxy-Authorization gets 407 and the
#   connection is closed.
import asyncio
import base64
import json
import sys

LOG = sys.argv[1]
AUTH = None
if len(sys.argv) > 3 and sys.argv[2] == "--auth" and sys.argv[3]:
    AUTH = "Basic " + base64.b64encode(sys.argv[3].encode()).decode()
serial = 0


def log(entry):
    with open(LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")


def parse_head(raw):
    lines = raw.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        if line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return method, target, headers


def header(headers, name):
    for n, v in headers:
        if n.lower() == name:
            return v
    return None


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def relay_body(headers, reader, writer):
    """Copies one message's body (Content-Length or chunked) from reader to writer."""
    length = header(headers, "content-length")
    if length is not None:
        n = int(length)
        while n > 0:
            data = await reader.read(min(n, 65536))
            if not data:
                raise ConnectionError("short body")
            writer.write(data)
            n -= len(data)
        return True
    if (header(headers, "transfer-encoding") or "").lower() == "chunked":
        while True:
            size_line = await reader.readuntil(b"\r\n")
            writer.write(size_line)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                trailer = await reader.readuntil(b"\r\n")
                writer.write(trailer)
                while trailer != b"\r\n":
                    trailer = await reader.readuntil(b"\r\n")
                    writer.write(trailer)
                return True
            writer.write(await reader.readexactly(size + 2))
    return False  # the body runs to the end of the stream


async def handle(reader, writer):
    global serial
    serial += 1
    conn = serial
    upstreams = {}
    try:
        while True:
            try:
                raw = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            method, target, headers = parse_head(raw)
            auth = header(headers, "proxy-authorization")
            log({"method": method, "target": target, "proxy_authorization": auth,
                 "connection": conn})
            if AUTH is not None and auth != AUTH:
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                             b"Proxy-Authenticate: Basic realm=\"test\"\r\n"
                             b"Content-Length: 19\r\nConnection: close\r\n\r\n"
                             b"proxy auth required")
                await writer.drain()
                return
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                try:
                    ur, uw = await asyncio.open_connection(host.strip("[]"), int(port))
                except OSError:
                    writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
                    await writer.drain()
                    return
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await asyncio.gather(pipe(reader, uw), pipe(ur, writer))
                return
            # Absolute form: http://host:port/path
            rest = target.split("://", 1)[1]
            slash = rest.find("/")
            authority, path = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
            host, _, port = authority.rpartition(":")
            if not host:
                host, port = authority, "80"
            key = (host, int(port))
            if key not in upstreams:
                upstreams[key] = await asyncio.open_connection(host.strip("[]"), int(port))
            ur, uw = upstreams[key]
            out = [f"{method} {path} HTTP/1.1"]
            for n, v in headers:
                if not n.lower().startswith("proxy-"):
                    out.append(f"{n}: {v}")
            uw.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
            await relay_body(headers, reader, uw)
            await uw.drain()
            resp_raw = await ur.readuntil(b"\r\n\r\n")
            _, _, resp_headers = parse_head(resp_raw)
            writer.write(resp_raw)
            if method != "HEAD" and not await relay_body(resp_headers, ur, writer):
                writer.write(await ur.read())  # a body to the end of the stream
                await writer.drain()
                return
            await writer.drain()
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        pass
    finally:
        for _, uw in upstreams.values():
            uw.close()
        try:
            writer.close()
        except Exception:
            pass


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("PORT:%d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
