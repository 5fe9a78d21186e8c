# A Condition waiter cancelled while waiting (never notified) wakes one other waiter on its way
# out (CPython: `except BaseException: self._notify(1)`), and re-acquires the lock first.
import asyncio

async def waiter(cond, name, log):
    async with cond:
        try:
            await cond.wait()
            log.append(name + " woke")
        except asyncio.CancelledError:
            log.append(name + " cancelled, holds lock: " + str(cond.locked()))
            raise

async def main():
    cond = asyncio.Condition()
    log = []
    a = asyncio.create_task(waiter(cond, "a", log))
    b = asyncio.create_task(waiter(cond, "b", log))
    await asyncio.sleep(0)
    a.cancel()
    await asyncio.sleep(0.1)
    print(log)
    print("b done:", b.done())
    b.cancel()
    await asyncio.gather(a, b, return_exceptions=True)

asyncio.run(main())
