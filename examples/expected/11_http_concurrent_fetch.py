# The reference for examples/11_http_concurrent_fetch.cpp: seed 001's concurrent fetch with
# aiohttp (gather over session.get), against CPython's http.server started on a free port.
import asyncio
import shutil
import tempfile

import aiohttp


async def fetch(session, url):
    async with session.get(url) as resp:
        body = await resp.text()
        return resp.status, len(body)   # httpx would say resp.status_code


async def main():
    directory = tempfile.mkdtemp(prefix='asyncio-fetch-demo-')
    for i in range(10):
        with open(f'{directory}/page{i}.html', 'w') as f:
            f.write('x' * (100 * (i + 1)))
    server = await asyncio.create_subprocess_exec(
        'python3', '-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', directory,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    line = (await server.stdout.readline()).decode()
    port = int(line.split(' port ')[1].split()[0])

    urls = [f'http://127.0.0.1:{port}/page{i}.html' for i in range(10)]
    connections = 0

    async def on_connection(session, context, params):
        nonlocal connections
        connections += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_connection)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        results = await asyncio.gather(*(fetch(session, url) for url in urls))
        for url, (status, length) in zip(urls, results):
            print(f'{url.rsplit("/", 1)[1]}: status {status}, {length} bytes')
        print(f'fetched {len(results)} pages over {connections} connections')

    server.terminate()
    await server.wait()
    shutil.rmtree(directory)


asyncio.run(main())
