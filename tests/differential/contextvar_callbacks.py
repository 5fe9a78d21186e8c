# Callbacks run in the context current when they were scheduled (call_soon, call_later,
# add_done_callback); a set() inside a callback does not leak into the next callback or back.
import asyncio
import contextvars

var = contextvars.ContextVar("var", default="default")

def cb(tag):
    print(tag, "sees", var.get())
    var.set("set by " + tag)

async def main():
    loop = asyncio.get_running_loop()
    var.set("main")
    loop.call_soon(cb, "call_soon")
    loop.call_later(0.01, cb, "call_later")
    fut = loop.create_future()
    fut.add_done_callback(lambda f: cb("done_callback"))
    fut.set_result(None)
    await asyncio.sleep(0.05)
    print("main sees", var.get())

asyncio.run(main())
