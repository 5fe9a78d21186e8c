# as_completed (3.13), iterated asynchronously: the original tasks come back, in completion
# order; after the timeout each one not done raises TimeoutError.
import asyncio

async def after(d, v):
    await asyncio.sleep(d)
    return v

async def main():
    ts = [asyncio.create_task(after(d, v)) for d, v in ((0.3, "slow"), (0.1, "fast"), (0.2, "mid"))]
    async for t in asyncio.as_completed(ts):
        print(await t, t is ts[0] or t is ts[1] or t is ts[2])
    ts = [asyncio.create_task(after(d, v)) for d, v in ((0.1, "a"), (0.5, "b"))]
    it = asyncio.as_completed(ts, timeout=0.2)
    print("first:", await (await anext(it)))
    try:
        await anext(it)
    except TimeoutError:
        print("TimeoutError; b still running:", not ts[1].done())
    print("b:", await ts[1])

asyncio.run(main())
