# The reference for examples/08_unix_echo.cpp: a streams echo over a Unix socket
# (start_unix_server / open_unix_connection).
import asyncio
import os
import tempfile


async def handle(reader, writer):
    data = await reader.read(100)
    print('server got', data)
    writer.write(data.upper())
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    path = os.path.join(tempfile.gettempdir(), 'asyncio-example-%d.sock' % os.getpid())
    server = await asyncio.start_unix_server(handle, path)
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(b'over a unix socket')
    print('client got', await reader.read())
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    print('socket file removed:', not os.path.exists(path))


asyncio.run(main())
