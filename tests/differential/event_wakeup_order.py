# Event.set() wakes waiters in order, after a task step already queued; a clear() before the
# woken waiters run does not take the wake-up back; wait() returns True.
import asyncio

async def waiter(ev, name, log):
    log.append((name, await ev.wait()))

async def main():
    ev = asyncio.Event()
    log = []
    t1 = asyncio.create_task(waiter(ev, 1, log))
    t2 = asyncio.create_task(waiter(ev, 2, log))
    await asyncio.sleep(0)
    t3 = asyncio.create_task(waiter(ev, 3, log))
    ev.set()
    await asyncio.gather(t1, t2, t3)
    print(log, ev.is_set())
    ev.clear()
    log = []
    t4 = asyncio.create_task(waiter(ev, 4, log))
    await asyncio.sleep(0)
    ev.set()
    ev.clear()
    await t4
    print(log, ev.is_set())

asyncio.run(main())
