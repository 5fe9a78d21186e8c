# Semaphore and Queue: a woken waiter cancelled before it runs loses nothing: the permit or
# the item goes to the next waiter, in FIFO order.
import asyncio

async def acquirer(sem, name, log):
    async with sem:
        log.append(name)
        await asyncio.sleep(0)

async def getter(q, name, log):
    log.append((name, await q.get()))

async def main():
    sem = asyncio.Semaphore(0)
    log = []
    ts = [asyncio.create_task(acquirer(sem, n, log)) for n in ("s1", "s2", "s3", "s4")]
    await asyncio.sleep(0)
    ts[0].cancel()
    ts[1].cancel()
    sem.release()
    await asyncio.sleep(0.01)
    print(log, [t.done() for t in ts])
    sem.release()
    await asyncio.gather(*ts, return_exceptions=True)
    print(log, sem.locked())
    q = asyncio.Queue()
    log = []
    gs = [asyncio.create_task(getter(q, n, log)) for n in ("g1", "g2")]
    await asyncio.sleep(0)
    q.put_nowait("x")
    gs[0].cancel()
    q.put_nowait("y")
    await asyncio.gather(*gs, return_exceptions=True)
    print(log, q.qsize())

asyncio.run(main())
