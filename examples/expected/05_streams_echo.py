# The reference for examples/05_streams_echo.cpp: a streams echo server (start_server) and a
# client (open_connection) exchanging three lines.
import asyncio


async def handle(reader, writer):
    addr = writer.get_extra_info('peername')
    while line := await reader.readline():
        print('server got', line)
        writer.write(line)
        await writer.drain()
    print('server: client closed')
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    for msg in [b'hello\n', b'streams\n', b'bye\n']:
        writer.write(msg)
        await writer.drain()
        print('client got', await reader.readline())
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.05)
    server.close()
    await server.wait_closed()
    print('done')


asyncio.run(main())
