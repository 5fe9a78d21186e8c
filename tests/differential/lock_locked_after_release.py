# Lock.locked() is False right after release() even with waiters queued: the woken waiter
# takes the lock when it runs; a task that tries to barge in meanwhile still waits its turn.
import asyncio

async def waiter(lock, name, log):
    async with lock:
        log.append(name)

async def main():
    lock = asyncio.Lock()
    log = []
    await lock.acquire()
    t = asyncio.create_task(waiter(lock, "queued", log))
    await asyncio.sleep(0)
    lock.release()
    print("after release:", lock.locked())
    t2 = asyncio.create_task(waiter(lock, "barger", log))
    await asyncio.gather(t, t2)
    print(log, lock.locked())

asyncio.run(main())
