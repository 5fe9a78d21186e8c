# An external cancel("ext") and a timeout expiring in the same iteration: the task sees the
# CancelledError of whichever request came first; timeout() turns it into TimeoutError only
# when no other request is left (the count is back to its level at entry).
import asyncio

async def body(when):
    try:
        async with asyncio.timeout_at(when) as cm:
            await asyncio.sleep(10)
        print("body: no exception")
    except TimeoutError:
        print("body: TimeoutError")
    except asyncio.CancelledError as e:
        print("body: CancelledError", e.args, "expired:", cm.expired())
        raise

async def run(ext_first):
    loop = asyncio.get_running_loop()
    when = loop.time() + 0.5
    if ext_first:
        t = asyncio.create_task(body(when))
        loop.call_at(when, t.cancel, "ext")  # scheduled before the task enters the timeout
    else:
        t = asyncio.create_task(body(when))
        await asyncio.sleep(0)  # the timeout's handle comes first
        loop.call_at(when, t.cancel, "ext")
    try:
        await t
        print("main: task returned")
    except asyncio.CancelledError as e:
        print("main: CancelledError", e.args, t.cancelling())

async def main():
    await run(True)
    await run(False)

asyncio.run(main())
