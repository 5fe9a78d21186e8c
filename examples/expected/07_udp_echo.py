# The reference for examples/07_udp_echo.cpp: a UDP echo server and client
# (create_datagram_endpoint), one datagram at a time.
import asyncio


class EchoServer(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        print('server got', data)
        self.transport.sendto(data, addr)


class Client(asyncio.DatagramProtocol):
    def __init__(self, messages, done):
        self.messages = list(messages)
        self.done = done

    def connection_made(self, transport):
        self.transport = transport
        transport.sendto(self.messages.pop(0))

    def datagram_received(self, data, addr):
        print('client got', data)
        if self.messages:
            self.transport.sendto(self.messages.pop(0))
        else:
            self.transport.close()

    def connection_lost(self, exc):
        self.done.set_result(None)


async def main():
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(EchoServer, local_addr=('127.0.0.1', 0))
    port = transport.get_extra_info('sockname')[1]
    done = loop.create_future()
    await loop.create_datagram_endpoint(lambda: Client([b'one', b'two', b'three'], done),
                                        remote_addr=('127.0.0.1', port))
    await done
    transport.close()
    print('done')


asyncio.run(main())
