// Eager tasks: CPython 3.13's order of the eager step, the done callbacks, the ready queue
// and the parts after the first suspension (eager_ordering.py).
#include "corpus.hpp"
using corpus::print;

asyncio::ContextVar<std::string> var("var", "unset");
asyncio::AnyTask outer_task;

asyncio::Coro<int> immediate(int x) {
    print("immediate runs", x,
          "inside a new task:", asyncio::current_task().core() != outer_task.core());
    co_return x * 2;
}

asyncio::Coro<std::string> suspends() {
    print("suspends: first part");
    co_await asyncio::sleep(0);
    print("suspends: resumed");
    co_return "s";
}

asyncio::Coro<int> raises() {
    print("raises: runs");
    throw ValueError("boom");
    co_return 0;
}

asyncio::Coro<void> ctx_task() {
    print("ctx_task sees", var.get());
    var.set("inside");
    co_await asyncio::sleep(0);
    print("ctx_task after sleep sees", var.get());
}

std::string what(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    }
}

asyncio::Coro<void> amain() {
    auto& loop = asyncio::get_running_loop();
    loop.set_task_factory(asyncio::eager_task_factory);
    outer_task = asyncio::current_task();
    // 1. finishes at once: result ready, done callbacks still scheduled
    loop.call_soon([] { print("call_soon scheduled before create_task"); });
    auto t = asyncio::create_task(immediate(21));
    print("after create_task: done", t.done(), "result", t.result(), "current restored",
          asyncio::current_task().core() == outer_task.core());
    t.add_done_callback([] { print("done callback of immediate"); });
    loop.call_soon([] { print("call_soon scheduled after add_done_callback"); });
    print("callback not run inline");
    co_await asyncio::sleep(0);
    print("after one yield");
    // 2. suspends, then resumes as a normal task
    auto t2 = asyncio::create_task(suspends());
    print("after create_task(suspends): done", t2.done());
    t2.add_done_callback([] { print("done callback of suspends"); });
    std::string r = co_await t2;
    print("awaited suspends:", r);
    // 3. raises inside create_task
    auto t3 = asyncio::create_task(raises());
    print("after create_task(raises): done", t3.done(), "exception", what(t3.exception()));
    // 4. cancelled after its first suspension
    auto t4 = asyncio::create_task(suspends());
    print("cancel after suspension:", t4.cancel());
    try {
        co_await t4;
    } catch (const asyncio::CancelledError&) {
        print("cancelled", t4.cancelled());
    }
    // 5. contextvars: the eager step runs in the task's copy of the context
    var.set("outer");
    auto t5 = asyncio::create_task(ctx_task());
    print("outer after eager step sees", var.get());
    co_await t5;
    print("outer after the task sees", var.get());
    // 6. TaskGroup
    asyncio::Task<int> a;
    asyncio::Task<std::string> b;
    co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
        a = tg.create_task(immediate(1));
        b = tg.create_task(suspends());
        print("in group: immediate done", a.done(), "suspends done", b.done());
        co_return;
    });
    print("group results", a.result(), b.result());
    // 7. gather
    auto g = asyncio::gather(immediate(2), immediate(3));
    print("gather of two that end at once is done:", g.done());
    auto [g0, g1] = co_await g;
    print("gather result", "[" + std::to_string(g0) + ", " + std::to_string(g1) + "]");
    auto g2 = asyncio::gather(immediate(4), suspends());
    print("gather with a suspending child is done:", g2.done());
    auto [h0, h1] = co_await g2;
    print("gather result", "[" + std::to_string(h0) + ", " + corpus::repr(h1) + "]");
    // 8. TaskGroup: an eager child failing inside create_task aborts the group at once
    try {
        co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            auto sib = tg.create_task(suspends());
            tg.create_task(raises());
            print("after the failing child: sibling cancelling", sib.cancelling(), "done",
                  sib.done());
            co_return;
        });
    } catch (const asyncio::ExceptionGroup& eg) {
        print("group raised", what(eg.exceptions()[0]));
    }
    // 9. back to the default factory: not eager
    loop.set_task_factory(nullptr);
    auto t9 = asyncio::create_task(immediate(5));
    print("default factory: done at once", t9.done());
    co_await t9;
}

int main() { asyncio::run(amain()); }
