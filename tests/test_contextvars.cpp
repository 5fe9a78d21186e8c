// ContextVar, Token, Context, copy_context: values follow a task and the coroutines it
// awaits, and never leak from a child task to its parent.
#include <memory>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

using namespace asyncio;

namespace {
ContextVar<std::string> request_id("request_id", "none");
ContextVar<int> counter("counter");
}  // namespace

ASYNCIO_TEST(ContextVar, GetGivesTheDefaultOrRaisesLookupError) {
    EXPECT_EQ(request_id.get(), "none");
    EXPECT_EQ(request_id.name(), "request_id");
    EXPECT_EQ(counter.get(7), 7);
    bool threw = false;
    try {
        (void)counter.get();
    } catch (const LookupError& e) {
        threw = true;
        EXPECT_STREQ(e.what(), "ContextVar 'counter' has no value");
    }
    EXPECT_TRUE(threw);
    co_return;
}

ASYNCIO_TEST(ContextVar, ResetRestoresTheValueBeforeSet) {
    auto t1 = counter.set(1);
    EXPECT_FALSE(t1.old_value().has_value());
    auto t2 = counter.set(2);
    EXPECT_EQ(t2.old_value(), std::optional<int>(1));
    EXPECT_EQ(counter.get(), 2);
    counter.reset(t2);
    EXPECT_EQ(counter.get(), 1);
    EXPECT_THROW(counter.reset(t2), RuntimeError);  // a token is used once
    counter.reset(t1);
    EXPECT_EQ(counter.get(0), 0) << "reset to 'no value'";
    co_return;
}

namespace {
Coro<std::string> inner() { co_return request_id.get(); }

Coro<std::string> child(std::string name) {
    std::string seen = request_id.get();
    request_id.set(name);
    co_await asyncio::sleep(0.1);
    std::string after = co_await inner();
    co_return seen + ">" + after;
}
}  // namespace

ASYNCIO_TEST(ContextVar, ChildTasksStartWithACopyAndNeverLeakBack) {
    request_id.set("main");
    auto a = create_task(child("A"));
    auto b = create_task(child("B"));
    request_id.set("main2");  // after creation: the children do not see it
    EXPECT_EQ(co_await a, "main>A");
    EXPECT_EQ(co_await b, "main>B");
    EXPECT_EQ(request_id.get(), "main2");
}

ASYNCIO_TEST(ContextVar, ValuesFollowIntoAwaitedCoroutines) {
    request_id.set("outer");
    EXPECT_EQ(co_await inner(), "outer");
    std::string seen = co_await [](std::string v) -> Coro<std::string> {
        request_id.set(v);  // an awaited coroutine shares the task's context
        co_return co_await inner();
    }("nested");
    EXPECT_EQ(seen, "nested");
    EXPECT_EQ(request_id.get(), "nested");
}

ASYNCIO_TEST(ContextVar, ATokenBelongsToTheContextThatMadeIt) {
    auto token = counter.set(5);
    auto other = create_task([](Token<int>* t) -> Coro<bool> {
        try {
            counter.reset(*t);
        } catch (const std::invalid_argument&) {
            co_return true;
        }
        co_return false;
    }(&token));
    EXPECT_TRUE(co_await other) << "reset() in another task must fail";
    ContextVar<int> another("another");
    EXPECT_THROW(another.reset(token), std::invalid_argument);
    counter.reset(token);
}

ASYNCIO_TEST(Context, RunIsolatesAndKeepsWhatItSet) {
    counter.set(1);
    Context ctx = copy_context();
    EXPECT_EQ(ctx.get(counter), std::optional<int>(1));
    int inside = ctx.run([] {
        counter.set(2);
        return counter.get();
    });
    EXPECT_EQ(inside, 2);
    EXPECT_EQ(counter.get(), 1) << "what run() set stays in the Context";
    EXPECT_EQ(ctx.get(counter), std::optional<int>(2));
    EXPECT_EQ(ctx.run([] { return counter.get(); }), 2);
    EXPECT_TRUE(ctx.contains(counter));
    EXPECT_FALSE(ctx.contains(request_id));
    co_return;
}

namespace {
ContextVar<std::string> cb_var("cb_var", "default");
}

// CPython: Handle copies the current context at call_soon / call_later / call_at /
// call_soon_threadsafe and runs the callback in it (Handle._run: self._context.run(...)):
// a value set before call_soon is seen by the callback; what a callback sets reaches neither
// the next callback nor the caller. (Checked against python3.13: "a main", "b main".)
ASYNCIO_TEST(CallbackContext, CallbacksRunInACopyOfTheContextOfTheirScheduling) {
    auto& loop = asyncio::get_running_loop();
    cb_var.set("main");
    std::vector<std::string> seen;
    auto cb = [&seen](std::string tag) {
        seen.push_back(tag + " " + cb_var.get());
        cb_var.set("set-in-" + tag);
    };
    loop.call_soon(cb, std::string("a"));
    loop.call_soon(cb, std::string("b"));
    loop.call_later(0.001, cb, std::string("c"));
    loop.call_at(loop.time() + 0.002, cb, std::string("d"));
    co_await asyncio::sleep(0.01);
    EXPECT_EQ(seen, (std::vector<std::string>{"a main", "b main", "c main", "d main"}));
    EXPECT_EQ(cb_var.get(), "main");
}

// CPython: loop.call_soon(cb, context=ctx) runs cb in ctx ("c ctx").
ASYNCIO_TEST(CallbackContext, CallSoonWithAContextRunsTheCallbackInIt) {
    auto& loop = asyncio::get_running_loop();
    cb_var.set("main");
    Context ctx = copy_context();
    ctx.run([] { cb_var.set("ctx"); });
    std::vector<std::string> seen;
    loop.call_soon(ctx, [&] { seen.push_back(cb_var.get()); });
    loop.call_later(ctx, 0.001, [&] { seen.push_back(cb_var.get()); });
    loop.call_at(ctx, loop.time(), [&] { seen.push_back(cb_var.get()); });
    co_await asyncio::sleep(0.01);
    EXPECT_EQ(seen, (std::vector<std::string>{"ctx", "ctx", "ctx"}));
    EXPECT_EQ(cb_var.get(), "main");
}

// A callback's set() outside any task (a hand-driven loop) does not leak into the thread.
TEST(CallbackContext, ASetInACallbackDoesNotLeakIntoTheThreadAfterTheLoopRuns) {
    auto l = asyncio::new_event_loop();
    l->call_soon([] { cb_var.set("leaked"); });
    l->call_soon([&] { l->stop(); });
    l->run_forever();
    EXPECT_EQ(cb_var.get(), "default");
    l->close();
}

// call_soon_threadsafe copies the posting thread's context.
TEST(CallbackContext, CallSoonThreadsafeCopiesThePostingThreadsContext) {
    auto l = asyncio::new_event_loop();
    std::string seen;
    std::thread([&] {
        cb_var.set("poster");
        l->call_soon_threadsafe([&] {
            seen = cb_var.get();
            l->stop();
        });
    }).join();
    l->run_forever();
    EXPECT_EQ(seen, "poster");
    EXPECT_EQ(cb_var.get(), "default");
    l->close();
}

// CPython: create_task(coro, context=ctx) runs the task in ctx instead of a copy of the
// current context, and the creator's context is untouched (python3.13: "task ctx", then
// "after task, main sees main"). What the task sets stays in the task here: ctx is a snapshot
// (documented difference; CPython's Context object would change).
ASYNCIO_TEST(TaskContext, CreateTaskWithAContextRunsTheTaskInIt) {
    cb_var.set("main");
    Context ctx = copy_context();
    ctx.run([] { cb_var.set("ctx"); });
    std::string seen;
    auto t = asyncio::create_task(
        [](std::string* out) -> Coro<void> {
            *out = cb_var.get();
            cb_var.set("set-in-child");
            co_return;
        }(&seen),
        {.context = ctx});
    co_await t;
    EXPECT_EQ(seen, "ctx");
    EXPECT_EQ(cb_var.get(), "main");
    EXPECT_EQ(ctx.get(cb_var).value_or("unset"), "ctx");

    // An empty Context: the task sees every variable's default.
    auto t2 = asyncio::create_task(
        [](std::string* out) -> Coro<void> {
            *out = cb_var.get();
            co_return;
        }(&seen),
        {.name = "empty", .context = Context()});
    co_await t2;
    EXPECT_EQ(seen, "default");
    EXPECT_EQ(t2.get_name(), "empty");
}

// CPython: Future.add_done_callback(fn, context=ctx) runs fn in ctx; without context= it runs
// in a copy of the context current at add_done_callback (python3.13: "cb ctx", "cb2 main").
ASYNCIO_TEST(CallbackContext, AddDoneCallbackWithAContextRunsTheCallbackInIt) {
    auto& loop = asyncio::get_running_loop();
    cb_var.set("main");
    Context ctx = copy_context();
    ctx.run([] { cb_var.set("ctx"); });
    std::vector<std::string> seen;
    auto fut = loop.create_future<int>();
    fut.add_done_callback(ctx, [&] { seen.push_back("cb " + cb_var.get()); });
    fut.add_done_callback([&](Future<int>& f) {
        seen.push_back("cb2 " + cb_var.get() + " " + std::to_string(f.result()));
    });
    fut.set_result(1);
    auto t = asyncio::create_task(asyncio::sleep(0));
    t.add_done_callback(ctx, [&](Task<void>&) { seen.push_back("tcb " + cb_var.get()); });
    co_await t;
    co_await asyncio::sleep(0);
    EXPECT_EQ(seen, (std::vector<std::string>{"cb ctx", "cb2 main 1", "tcb ctx"}));
    EXPECT_EQ(cb_var.get(), "main");
}

// A done callback stored on a future that never completes holds no reference to it: dropping
// the last handle frees the future and disposes of the callback (before, the callback's
// reference kept the future, and with it the loop, alive forever).
ASYNCIO_TEST(CallbackLifetime, AFutureDroppedWithAPendingDoneCallbackIsFreed) {
    auto token = std::make_shared<int>(0);
    {
        auto fut = asyncio::get_running_loop().create_future<int>();
        fut.add_done_callback([token] {});
        EXPECT_EQ(token.use_count(), 2);
    }
    EXPECT_EQ(token.use_count(), 1) << "the future and its callback must be freed";
    // A scheduled callback keeps its future alive until it ran, even with no handle left.
    int got = 0;
    {
        auto fut = asyncio::get_running_loop().create_future<int>();
        fut.add_done_callback([&got](Future<int>& f) { got = f.result(); });
        fut.set_result(5);
    }
    co_await asyncio::sleep(0);
    EXPECT_EQ(got, 5);
    co_return;
}
