# agen.athrow(): raised at the paused yield; the generator may catch it and yield again; if it
# does not, it ends and the exception comes out of athrow(); its finally runs.
import asyncio

async def gen():
    try:
        yield 1
        yield 2
    except ValueError as e:
        print("caught", e.args)
        yield 10
    finally:
        print("cleanup")

async def main():
    g = gen()
    print(await anext(g))
    print(await g.athrow(ValueError("x")))
    try:
        await g.athrow(KeyError("k"))
    except KeyError as e:
        print("KeyError out", e.args)
    try:
        await anext(g)
    except StopAsyncIteration:
        print("ended")

asyncio.run(main())
