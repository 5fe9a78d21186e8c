# gather(): the first exception completes it at once; the other children are not cancelled and
# finish; results keep argument order; a failing child passed twice is reported once.
import asyncio

async def after(d, v):
    await asyncio.sleep(d)
    if isinstance(v, Exception):
        raise v
    return v

async def main():
    slow = asyncio.create_task(after(0.3, "slow"))
    try:
        await asyncio.gather(after(0.1, ValueError("bad")), slow)
    except ValueError as e:
        print("gather raised", e.args, "slow done:", slow.done())
    print("slow:", await slow)
    res = await asyncio.gather(after(0.2, "a"), after(0.1, "b"), after(0.0, "c"))
    print(res)
    t = asyncio.create_task(after(0.1, KeyError("k")))
    res = await asyncio.gather(t, t, after(0, 1), return_exceptions=True)
    print([type(r).__name__ for r in res])

asyncio.run(main())
