# A Runner runs every run() in the one context it copied at first use: a ContextVar set by
# the first run is visible to the second and to its tasks.
import asyncio
import contextvars

var = contextvars.ContextVar("var", default="unset")

async def first():
    var.set("from first run")

async def second():
    print("second run sees", var.get())
    async def child():
        return var.get()
    print("its task sees", await asyncio.create_task(child()))

with asyncio.Runner() as runner:
    runner.run(first())
    runner.run(second())
print("outside sees", var.get())
