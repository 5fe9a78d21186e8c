# Default task names count only unnamed tasks, process-wide: Task-N, a custom name, Task-N+1.
import asyncio

async def noop():
    pass

async def main():
    me = asyncio.current_task().get_name()
    a = asyncio.create_task(noop())
    b = asyncio.create_task(noop(), name="custom")
    c = asyncio.create_task(noop())
    await asyncio.gather(a, b, c)
    base = int(me.split("-")[1])
    print(me == f"Task-{base}", a.get_name() == f"Task-{base + 1}", b.get_name(), c.get_name() == f"Task-{base + 2}")
    a.set_name("renamed")
    print(a.get_name())

asyncio.run(main())
