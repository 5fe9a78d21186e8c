# The reference for examples/09_tls_echo.cpp: a TLS echo server and client (start_server /
# open_connection with ssl=), with a certificate made on the fly by the openssl command line.
import asyncio
import shutil
import ssl
import subprocess
import tempfile

MAKE_CERTIFICATES = (
    "set -e; ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; "
    "openssl req -x509 $ec -keyout ca.key -out ca.pem -days 1 -subj '/CN=demo CA' "
    "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign; "
    "openssl req $ec -keyout server.key -out server.csr -subj /CN=localhost; "
    "printf 'subjectAltName=DNS:localhost\\nkeyUsage=critical,digitalSignature\\n"
    "extendedKeyUsage=serverAuth\\nauthorityKeyIdentifier=keyid\\n' > ext.cnf; "
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 1 -days 1 "
    "-out server.pem -extfile ext.cnf")


async def make_certificates(directory):
    proc = await asyncio.create_subprocess_shell(
        MAKE_CERTIFICATES, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if await proc.wait() != 0:
        raise RuntimeError('openssl failed to make the certificates')


async def handle_echo(reader, writer):
    protocol = writer.get_extra_info('cipher')[1]
    while line := await reader.readline():
        print('server: echoing', line.decode().rstrip(), 'over', protocol)
        writer.write(line)
        await writer.drain()
    print('server: the client closed the connection')
    writer.close()
    await writer.wait_closed()


async def main():
    directory = tempfile.mkdtemp(prefix='asyncio-tls-demo-')
    await make_certificates(directory)

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(directory + '/server.pem', directory + '/server.key')
    server = await asyncio.start_server(handle_echo, '127.0.0.1', 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]

    client_ctx = ssl.create_default_context()  # verify the chain and check the name
    client_ctx.load_verify_locations(directory + '/ca.pem')
    reader, writer = await asyncio.open_connection('127.0.0.1', port, ssl=client_ctx,
                                                   server_hostname='localhost')
    subject = dict(item[0] for item in writer.get_extra_info('peercert')['subject'])
    print("client: the server's certificate is for", subject['commonName'])
    for message in (b'hello over TLS\n', b'second line\n'):
        writer.write(message)
        await writer.drain()
        print('client: got back', (await reader.readline()).decode().rstrip())
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    shutil.rmtree(directory)


asyncio.run(main())
