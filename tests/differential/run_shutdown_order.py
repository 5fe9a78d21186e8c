# asyncio.run() at exit: cancels the tasks left over (their cleanup runs, in creation order),
# then closes the async generators left open.
import asyncio

async def leftover(name):
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print(name, "cancelled at shutdown")
        await asyncio.sleep(0)
        print(name, "cleanup done")
        raise

async def gen():
    try:
        yield 1
        yield 2
    finally:
        print("generator closed")

g = None

async def main():
    global g
    asyncio.create_task(leftover("t1"))
    asyncio.create_task(leftover("t2"))
    g = gen()  # kept alive: closed by the runner's shutdown_asyncgens, not by the collector
    print("got", await anext(g))
    await asyncio.sleep(0)
    print("main returns")
    return "result"

print(asyncio.run(main()))
print("after run")
