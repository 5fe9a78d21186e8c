# A task runs in a copy of the context current at create_task: it sees the parent's values,
# and its own set() stays its own.
import asyncio
import contextvars

var = contextvars.ContextVar("var", default=0)

async def child(n):
    print("child", n, "sees", var.get())
    var.set(n * 10)
    await asyncio.sleep(0)
    print("child", n, "now", var.get())

async def main():
    var.set(1)
    t1 = asyncio.create_task(child(1))
    var.set(2)
    t2 = asyncio.create_task(child(2))
    await asyncio.gather(t1, t2)
    print("main sees", var.get())
    async with asyncio.TaskGroup() as tg:
        var.set(3)
        tg.create_task(child(3))
    print("main sees", var.get())

asyncio.run(main())
