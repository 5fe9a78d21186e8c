# Two cancels then two uncancels on a sleeping task: the sleep was already cancelled with "a",
# so the task still sees CancelledError('a'); uncancel() only withdraws undelivered requests.
import asyncio

async def sleeper():
    try:
        await asyncio.sleep(10)
        print("sleeper: woke normally")
    except asyncio.CancelledError as e:
        print("sleeper: CancelledError", e.args)
        raise

async def main():
    t = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    t.cancel("a")
    t.cancel("b")
    print("cancelling:", t.cancelling())
    print("uncancel:", t.uncancel(), t.uncancel())
    try:
        await t
    except asyncio.CancelledError as e:
        print("main: CancelledError", e.args)
    print("cancelled:", t.cancelled())

asyncio.run(main())
