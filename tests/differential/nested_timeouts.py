# Nested timeouts: the one that fired converts its CancelledError to TimeoutError; the other
# passes it through; expired() tells which fired; a caught TimeoutError leaves the task
# uncancelled.
import asyncio

async def main():
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    try:
        async with asyncio.timeout(1) as outer:
            try:
                async with asyncio.timeout(0.1) as inner:
                    await asyncio.sleep(10)
            except TimeoutError:
                print("inner fired:", inner.expired(), outer.expired())
            await asyncio.sleep(10)
    except TimeoutError:
        print("outer fired:", inner.expired(), outer.expired(), loop.time() - t0 < 1.5)
    print("cancelling:", asyncio.current_task().cancelling())
    when = loop.time() + 0.2
    try:
        async with asyncio.timeout_at(when) as a:
            try:
                async with asyncio.timeout_at(when) as b:
                    await asyncio.sleep(10)
            except asyncio.CancelledError:
                print("inner saw CancelledError")
                raise
    except TimeoutError:
        print("outermost converts:", a.expired(), b.expired())
    async with asyncio.timeout(None) as c:
        print("disabled:", c.when())
        c.reschedule(loop.time() + 5)
        c.reschedule(None)
        await asyncio.sleep(1)
    print("not expired:", c.expired())

asyncio.run(main())
