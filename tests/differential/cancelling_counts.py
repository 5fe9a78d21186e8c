# cancel() returns True on every call while pending and counts; uncancel() counts down; a task
# that swallows its cancellation runs on; cancel() on a done task returns False.
import asyncio

async def stubborn(log):
    for i in range(3):
        try:
            await asyncio.sleep(1)
            log.append(f"slept {i}")
        except asyncio.CancelledError:
            log.append(f"cancelled at {i}, cancelling={asyncio.current_task().cancelling()}")
            left = asyncio.current_task().uncancel()
            log.append(f"uncancel -> {left}")
    return "done"

async def main():
    log = []
    t = asyncio.create_task(stubborn(log))
    await asyncio.sleep(0)
    print(t.cancel(), t.cancel(), t.cancelling())
    await asyncio.sleep(0)
    print(t.cancelling(), t.cancelled(), t.done())
    await asyncio.sleep(1.5)
    print(t.cancel("third"), t.cancelling())
    print(await t)
    print(t.cancel(), t.cancelled(), t.cancelling())
    for line in log:
        print(line)

asyncio.run(main())
