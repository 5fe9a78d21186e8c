# A TaskGroup whose child fails cancels the siblings and the body, raises an ExceptionGroup of
# the real errors only, and leaves the parent's cancelling() where it was; nested failing groups
# nest their ExceptionGroups.
import asyncio

async def fail(d, exc):
    await asyncio.sleep(d)
    raise exc

async def sleeper(name, log):
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        log.append(f"{name} cancelled")
        raise

async def main():
    log = []
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(sleeper("a", log))
            tg.create_task(fail(0.1, ZeroDivisionError("zde")))
            tg.create_task(sleeper("b", log))
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                log.append("body cancelled")
                raise
    except* ZeroDivisionError as eg:
        print("group:", [type(e).__name__ for e in eg.exceptions])
    print(sorted(log))  # a set holds the group's tasks: the cancel order is not defined
    print("cancelling:", asyncio.current_task().cancelling())
    try:
        async with asyncio.TaskGroup() as outer:
            outer.create_task(sleeper("c", log))
            async with asyncio.TaskGroup() as inner:
                inner.create_task(fail(0.1, ValueError("v")))
    except ExceptionGroup as eg:
        print("nested:", [type(e).__name__ for e in eg.exceptions],
              [type(x).__name__ for x in eg.exceptions[0].exceptions])
    print("cancelling:", asyncio.current_task().cancelling())
    await asyncio.sleep(0)
    print("next await not cancelled")

asyncio.run(main())
