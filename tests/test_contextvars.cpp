// ContextVar, Token, Context, copy_context: values follow a task and the coroutines it
// awaits, and never leak from a child task to its parent.
#include <string>

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
