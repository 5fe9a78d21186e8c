# The first cancel message wins: Task.__step keeps the CancelledError thrown by the waiter it
# was cancelled through; a second cancel() only counts.
import asyncio

async def sleeper():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError as e:
        print("sleeper:", type(e).__name__, e.args)
        raise

async def on_lock(lock):
    try:
        await lock.acquire()
    except asyncio.CancelledError as e:
        print("lock waiter:", type(e).__name__, e.args)
        raise

async def on_queue(q):
    try:
        await q.get()
    except asyncio.CancelledError as e:
        print("queue waiter:", type(e).__name__, e.args)
        raise

async def main():
    t = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    print(t.cancel("first"), t.cancel("second"), t.cancelling())
    try:
        await t
    except asyncio.CancelledError as e:
        print("awaiter:", e.args, t.cancelled())
    lock = asyncio.Lock()
    await lock.acquire()
    t = asyncio.create_task(on_lock(lock))
    await asyncio.sleep(0)
    t.cancel("first")
    t.cancel("second")
    try:
        await t
    except asyncio.CancelledError as e:
        print("awaiter:", e.args)
    lock.release()
    q = asyncio.Queue()
    t = asyncio.create_task(on_queue(q))
    await asyncio.sleep(0)
    t.cancel("first")
    t.cancel("second")
    try:
        await t
    except asyncio.CancelledError as e:
        print("awaiter:", e.args)

asyncio.run(main())
