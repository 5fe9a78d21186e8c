# The reference for examples/10_tls_start_tls.cpp: STARTTLS, a plaintext connection that both
# ends upgrade to TLS with writer.start_tls() (Python 3.11+).
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

server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
client_ctx = ssl.create_default_context()


async def make_certificates(directory):
    proc = await asyncio.create_subprocess_shell(
        MAKE_CERTIFICATES, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if await proc.wait() != 0:
        raise RuntimeError('openssl failed to make the certificates')


async def serve(reader, writer):
    hello = await reader.readline()
    print('server: plaintext', hello.decode().rstrip())
    if hello != b'STARTTLS\n':
        return
    writer.write(b'READY\n')
    await writer.drain()
    await writer.start_tls(server_ctx)
    secret = await reader.readline()
    print('server: over', writer.get_extra_info('cipher')[1], secret.decode().rstrip())
    writer.write(b'got it\n')
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    directory = tempfile.mkdtemp(prefix='asyncio-starttls-demo-')
    await make_certificates(directory)
    server_ctx.load_cert_chain(directory + '/server.pem', directory + '/server.key')
    client_ctx.load_verify_locations(directory + '/ca.pem')

    server = await asyncio.start_server(serve, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(b'STARTTLS\n')
    print('client: server says', (await reader.readline()).decode().rstrip())
    await writer.start_tls(client_ctx, server_hostname='localhost')
    print('client: upgraded to', writer.get_extra_info('cipher')[1])
    writer.write(b'the secret\n')
    print('client: server says', (await reader.readline()).decode().rstrip())
    print('client: then', await reader.read())
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    shutil.rmtree(directory)


asyncio.run(main())
