# The reference for examples/06_protocol_echo.cpp: an echo server written as a Protocol, and a
# client protocol made by create_connection.
import asyncio


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        print('server: connection made')

    def data_received(self, data):
        print('server got', data)
        self.transport.write(data)

    def eof_received(self):
        print('server: eof')

    def connection_lost(self, exc):
        print('server: connection lost', exc)


class Client(asyncio.Protocol):
    def __init__(self, done):
        self.done = done

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b'hello protocol')

    def data_received(self, data):
        print('client got', data)
        self.transport.write_eof()

    def eof_received(self):
        print('client: eof')

    def connection_lost(self, exc):
        print('client: connection lost', exc)
        self.done.set_result(None)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    done = loop.create_future()
    transport, protocol = await loop.create_connection(lambda: Client(done), '127.0.0.1', port)
    await done
    server.close()
    await server.wait_closed()
    print('done')


asyncio.run(main())
