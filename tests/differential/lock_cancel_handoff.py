# Lock: FIFO hand-off; a waiter woken by release() and cancelled before it runs passes the
# lock to the next waiter, so exactly one task holds it.
import asyncio

async def worker(lock, name, log):
    try:
        async with lock:
            log.append(name + " got it")
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        log.append(name + " cancelled")
        raise

async def main():
    lock = asyncio.Lock()
    log = []
    await lock.acquire()
    ts = [asyncio.create_task(worker(lock, n, log)) for n in ("a", "b", "c")]
    await asyncio.sleep(0)
    lock.release()
    ts[0].cancel()
    await asyncio.gather(*ts, return_exceptions=True)
    print(log)
    print("locked at end:", lock.locked())

asyncio.run(main())
