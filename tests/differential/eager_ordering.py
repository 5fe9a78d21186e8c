# Eager tasks (Python 3.12 eager_task_factory): what runs inside create_task() and in which
# order the done callbacks, the ready queue and the suspended parts come.
import asyncio
import contextvars

var = contextvars.ContextVar("var", default="unset")
outer_task = None


async def immediate(x):
    print("immediate runs", x, "inside a new task:", asyncio.current_task() is not outer_task)
    return x * 2


async def suspends():
    print("suspends: first part")
    await asyncio.sleep(0)
    print("suspends: resumed")
    return "s"


async def raises():
    print("raises: runs")
    raise ValueError("boom")


async def ctx_task():
    print("ctx_task sees", var.get())
    var.set("inside")
    await asyncio.sleep(0)
    print("ctx_task after sleep sees", var.get())


async def main():
    global outer_task
    loop = asyncio.get_running_loop()
    loop.set_task_factory(asyncio.eager_task_factory)
    outer_task = asyncio.current_task()
    # 1. finishes at once: result ready, done callbacks still scheduled
    loop.call_soon(print, "call_soon scheduled before create_task")
    t = asyncio.create_task(immediate(21))
    print("after create_task: done", t.done(), "result", t.result(),
          "current restored", asyncio.current_task() is outer_task)
    t.add_done_callback(lambda f: print("done callback of immediate"))
    loop.call_soon(print, "call_soon scheduled after add_done_callback")
    print("callback not run inline")
    await asyncio.sleep(0)
    print("after one yield")
    # 2. suspends, then resumes as a normal task
    t2 = asyncio.create_task(suspends())
    print("after create_task(suspends): done", t2.done())
    t2.add_done_callback(lambda f: print("done callback of suspends"))
    r = await t2
    print("awaited suspends:", r)
    # 3. raises inside create_task
    t3 = asyncio.create_task(raises())
    print("after create_task(raises): done", t3.done(), "exception", str(t3.exception()))
    # 4. cancelled after its first suspension
    t4 = asyncio.create_task(suspends())
    print("cancel after suspension:", t4.cancel())
    try:
        await t4
    except asyncio.CancelledError:
        print("cancelled", t4.cancelled())
    # 5. contextvars: the eager step runs in the task's copy of the context
    var.set("outer")
    t5 = asyncio.create_task(ctx_task())
    print("outer after eager step sees", var.get())
    await t5
    print("outer after the task sees", var.get())
    # 6. TaskGroup
    async with asyncio.TaskGroup() as tg:
        a = tg.create_task(immediate(1))
        b = tg.create_task(suspends())
        print("in group: immediate done", a.done(), "suspends done", b.done())
    print("group results", a.result(), b.result())
    # 7. gather
    g = asyncio.gather(immediate(2), immediate(3))
    print("gather of two that end at once is done:", g.done())
    print("gather result", await g)
    g2 = asyncio.gather(immediate(4), suspends())
    print("gather with a suspending child is done:", g2.done())
    print("gather result", await g2)
    # 8. TaskGroup: an eager child failing inside create_task aborts the group at once
    try:
        async with asyncio.TaskGroup() as tg:
            b = tg.create_task(suspends())
            c = tg.create_task(raises())
            print("after the failing child: sibling cancelling", b.cancelling(), "done", b.done())
    except* ValueError as eg:
        print("group raised", str(eg.exceptions[0]))
    # 9. back to the default factory: not eager
    loop.set_task_factory(None)
    t9 = asyncio.create_task(immediate(5))
    print("default factory: done at once", t9.done())
    await t9


asyncio.run(main())
