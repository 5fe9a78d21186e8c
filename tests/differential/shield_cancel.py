# shield(): cancelling the awaiter cancels only the outer future; the inner task finishes, its
# result unseen; a later failure of a shielded task is reported once.
import asyncio

async def inner(log):
    await asyncio.sleep(0.2)
    log.append("inner finished")
    return 42

async def waiter(t):
    try:
        return await asyncio.shield(t)
    except asyncio.CancelledError as e:
        print("waiter cancelled", e.args)
        raise

async def main():
    log = []
    t = asyncio.create_task(inner(log))
    w = asyncio.create_task(waiter(t))
    await asyncio.sleep(0.1)
    w.cancel("go")
    try:
        await w
    except asyncio.CancelledError:
        print("w cancelled:", w.cancelled(), "t done:", t.done())
    print("t result:", await t, log)
    print("shield of done:", await asyncio.shield(t))

asyncio.run(main())
