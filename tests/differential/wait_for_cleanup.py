# wait_for(): on timeout the inner task is cancelled and its cleanup (which may await) has
# finished before TimeoutError is raised; an inner task that swallows the cancellation and
# returns a value makes wait_for return it.
import asyncio

async def slow(log):
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        log.append("cleanup start")
        await asyncio.sleep(0.1)
        log.append("cleanup end")
        raise

async def swallow():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        return 42

async def main():
    loop = asyncio.get_running_loop()
    log = []
    t = asyncio.create_task(slow(log))
    t0 = loop.time()
    try:
        await asyncio.wait_for(t, 0.2)
    except TimeoutError:
        print("timeout after", round(loop.time() - t0, 1), log, t.cancelled())
    print("swallowed:", await asyncio.wait_for(swallow(), 0.1))
    print("zero, done future:", await asyncio.wait_for(asyncio.sleep(0, "ok") , 1))

asyncio.run(main())
