# Cancelling the task awaiting gather() with a message: the children are cancelled with that
# message; return_exceptions does not swallow the outer cancellation.
import asyncio

async def child(name):
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError as e:
        print(name, "cancelled with", e.args)
        raise

async def waiter(ret):
    try:
        await asyncio.gather(child("c1"), child("c2"), return_exceptions=ret)
    except asyncio.CancelledError as e:
        print("waiter got", e.args)
        raise

async def main():
    for ret in (False, True):
        t = asyncio.create_task(waiter(ret))
        await asyncio.sleep(0.1)
        t.cancel("stop")
        try:
            await t
        except asyncio.CancelledError as e:
            print("main got", e.args, t.cancelled())

asyncio.run(main())
