# The reference for examples/04_seed_echo_server.cpp: seed 004's echo server as the seed writes
# it (bound to a free port instead of 8080), driven by a client that sends three messages.
import asyncio
import socket


async def echo(conn, loop):
    while data := await loop.sock_recv(conn, 1024):
        print(data)
        await loop.sock_sendall(conn, data)


async def listen(sock, loop):
    while True:
        conn, addr = await loop.sock_accept(sock)
        asyncio.create_task(echo(conn, loop))


async def client(port, loop):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    await loop.sock_connect(c, ('127.0.0.1', port))
    for msg in [b'hello', b'asyncio', b'non-blocking sockets']:
        await loop.sock_sendall(c, msg)
        got = b''
        while len(got) < len(msg):
            got += await loop.sock_recv(c, 1024)
        print('client got', got)
    c.close()


async def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    sock.setblocking(False)
    sock.bind(('127.0.0.1', 0))

    sock.listen(5)

    loop = asyncio.get_running_loop()
    server = asyncio.create_task(listen(sock, loop))
    await client(sock.getsockname()[1], loop)
    server.cancel()
    sock.close()
    print('done')


asyncio.run(main())
