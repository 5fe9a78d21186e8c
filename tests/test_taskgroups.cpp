// TaskGroup: parity #69–#78 (CPython test_taskgroups::BaseTestTaskGroup).
#include <set>
#include <stdexcept>
#include <string>

#include "asyncio_test.hpp"

using namespace std::chrono_literals;
using asyncio::testing::loop;

#define CO_ASSERT(cond)         \
    do {                        \
        EXPECT_TRUE(cond);      \
        if (!(cond)) co_return; \
    } while (0)

namespace {
struct ZeroDivision : std::runtime_error {
    ZeroDivision() : std::runtime_error("division by zero") {}
};
struct ValueErr : std::invalid_argument {
    ValueErr() : std::invalid_argument("value") {}
};
struct MyExc : std::runtime_error {
    MyExc() : std::runtime_error("my") {}
};
struct MyBaseExc {};  // not a std::exception, like a Python BaseException

asyncio::Coro<int> value_after(double d, int v) {
    co_await asyncio::sleep(d);
    co_return v;
}
asyncio::Coro<void> zde_after(double d) {
    co_await asyncio::sleep(d);
    throw ZeroDivision();
}
std::set<std::string> member_types(const asyncio::ExceptionGroup& eg) {
    std::set<std::string> s;
    for (auto& e : eg.exceptions()) s.insert(asyncio::exception_type_name(e));
    return s;
}
const std::string kZde = "(anonymous namespace)::ZeroDivision";
}  // namespace

// parity #69: test_taskgroup_01 / _02 / _03
ASYNCIO_TEST(TaskGroup, WaitsForEveryChildIncludingLateOnes) {
    asyncio::TaskGroup tg;
    auto t1 = tg.create_task(value_after(0.1, 42));
    co_await asyncio::sleep(0.15);
    auto t2 = tg.create_task(value_after(0.1, 11));
    co_await tg.join();
    EXPECT_EQ(t1.result(), 42);
    EXPECT_EQ(t2.result(), 11);

    asyncio::TaskGroup g2;
    auto c1 = g2.create_task(value_after(0.1, 42));
    auto c2 = g2.create_task(value_after(0.1, 11));
    co_await asyncio::sleep(0.01);
    c1.cancel();
    co_await g2.join();  // nothing raised
    EXPECT_TRUE(c1.cancelled());
    EXPECT_EQ(c2.result(), 11);
}

// parity #70: test_cancel_children_on_child_error / test_taskgroup_04
ASYNCIO_TEST(TaskGroup, FailingChildCancelsSiblingsAndBody) {
    int cancelled = 0;
    bool after_block = false;
    bool body_cancelled = false;
    auto sibling = [](int* n) -> asyncio::Coro<void> {
        try {
            co_await asyncio::sleep(10);
        } catch (const asyncio::CancelledError&) {
            ++*n;
            throw;
        }
    };
    try {
        co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            tg.create_task(sibling(&cancelled));
            tg.create_task(sibling(&cancelled));
            tg.create_task(zde_after(0.1));
            try {
                co_await asyncio::sleep(10);
            } catch (const asyncio::CancelledError&) {
                body_cancelled = true;
                throw;
            }
        });
        after_block = true;
    } catch (const asyncio::ExceptionGroup& eg) {
        EXPECT_EQ(member_types(eg), std::set<std::string>{kZde});
        EXPECT_EQ(eg.message(), "unhandled errors in a TaskGroup");
    }
    EXPECT_EQ(cancelled, 2);
    EXPECT_TRUE(body_cancelled);
    EXPECT_FALSE(after_block);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0u);
}

// parity #71: test_cancellation / test_taskgroup_07 / _17
namespace {
int g_num = 0;
asyncio::Coro<void> counting_child() {
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
        g_num += 1;
        throw;
    }
}
asyncio::Coro<void> group_of_five(bool* body_except) {
    try {
        co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            for (int i = 0; i < 5; ++i) tg.create_task(counting_child());
            co_await asyncio::sleep(10);
        });
    } catch (const asyncio::CancelledError&) {
        *body_except = true;
        g_num += 10;
        throw;
    }
}
}  // namespace
ASYNCIO_TEST(TaskGroup, OutsideCancelCancelsEveryChildAndRaisesCancelledError) {
    g_num = 0;
    bool body_except = false;
    auto t = asyncio::create_task(group_of_five(&body_except));
    co_await asyncio::sleep(0.1);
    EXPECT_TRUE(t.cancel());
    bool cancelled = false;
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(body_except);
    EXPECT_EQ(g_num, 15);
}

// parity #72: test_taskgroup_08 / _15
namespace {
asyncio::Coro<void> zde_in_finally() {
    try {
        co_await asyncio::sleep(10);
    } catch (const asyncio::CancelledError&) {
    }
    throw ZeroDivision();
}
asyncio::Coro<void> group_failing_on_cancel() {
    co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
        for (int i = 0; i < 3; ++i) tg.create_task(zde_in_finally());
        co_await asyncio::sleep(10);
    });
}
}  // namespace
ASYNCIO_TEST(TaskGroup, RealErrorsWinOverTheOutsideCancel) {
    auto t = asyncio::create_task(group_failing_on_cancel());
    co_await asyncio::sleep(0.1);
    t.cancel();
    bool group = false;
    try {
        co_await t;
    } catch (const asyncio::ExceptionGroup& eg) {
        group = member_types(eg) == std::set<std::string>{kZde} && eg.exceptions().size() == 3;
    } catch (const asyncio::CancelledError&) {
    }
    EXPECT_TRUE(group);
}

// parity #73: test_taskgroup_10 / _18
ASYNCIO_TEST(TaskGroup, BodyErrorCancelsChildrenAndJoinsTheGroup) {
    bool child_cancelled = false;
    auto child = [](bool* c) -> asyncio::Coro<void> {
        try {
            co_await asyncio::sleep(10);
        } catch (const asyncio::CancelledError&) {
            *c = true;
            throw;
        }
    };
    try {
        co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            tg.create_task(child(&child_cancelled));
            co_await asyncio::sleep(0.1);
            throw ZeroDivision();
        });
    } catch (const asyncio::ExceptionGroup& eg) {
        EXPECT_EQ(member_types(eg), std::set<std::string>{kZde});
    }
    EXPECT_TRUE(child_cancelled);

    // The object form: the body's error goes to join().
    bool mine = false;
    {
        asyncio::TaskGroup tg;
        tg.create_task(child(&child_cancelled));
        std::exception_ptr body_error;
        try {
            throw MyExc();
        } catch (...) {
            body_error = std::current_exception();
        }
        try {
            co_await tg.join(body_error);
        } catch (const asyncio::ExceptionGroup& eg) {
            mine = member_types(eg) == std::set<std::string>{"(anonymous namespace)::MyExc"};
        }
    }
    EXPECT_TRUE(mine);
}

// parity #74: test_taskgroup_11 / _14
ASYNCIO_TEST(TaskGroup, NestedFailingGroupNests) {
    bool nested = false;
    try {
        co_await asyncio::task_group([](asyncio::TaskGroup& outer) -> asyncio::Coro<void> {
            outer.create_task(
                asyncio::task_group([](asyncio::TaskGroup& inner) -> asyncio::Coro<void> {
                    inner.create_task(zde_after(0.1));
                    co_await asyncio::sleep(10);
                }));
            co_await asyncio::sleep(10);
        });
    } catch (const asyncio::ExceptionGroup& eg) {
        if (eg.exceptions().size() == 1) {
            try {
                std::rethrow_exception(eg.exceptions()[0]);
            } catch (const asyncio::ExceptionGroup& in) {
                nested = member_types(in) == std::set<std::string>{kZde};
            } catch (...) {
            }
        }
    }
    EXPECT_TRUE(nested);
}

// parity #75: test_taskgroup_20 / _20a / _21a
ASYNCIO_TEST(TaskGroup, KeyboardInterruptFromTheBodyIsReraisedBare) {
    bool bare = false;
    try {
        co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            tg.create_task(asyncio::sleep(10));
            co_await asyncio::sleep(0.1);
            throw asyncio::KeyboardInterrupt();
        });
    } catch (const asyncio::KeyboardInterrupt&) {
        bare = true;
    }
    EXPECT_TRUE(bare);
    bool grouped = false;
    try {
        co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            tg.create_task(zde_after(0.1));
            try {
                co_await asyncio::sleep(10);
            } catch (const asyncio::CancelledError&) {
            }
            throw MyBaseExc();
        });
    } catch (const asyncio::ExceptionGroup& eg) {
        grouped =
            member_types(eg) == std::set<std::string>{kZde, "(anonymous namespace)::MyBaseExc"};
    }
    EXPECT_TRUE(grouped);
    // The body swallowed its cancellation and failed: the group's own cancel request was
    // withdrawn, so this task is not left cancelled.
    EXPECT_EQ(asyncio::current_task().cancelling(), 0u);
}

// parity #76: test_taskgroup_no_create_task_after_failure / _finished / _not_entered /
// _already_entered / _without_parent_task
ASYNCIO_TEST(TaskGroup, CreateTaskErrorsNameTheState) {
    std::string shutting, finished;
    try {
        co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            tg.create_task(zde_after(0));
            try {
                co_await asyncio::sleep(10);
            } catch (const asyncio::CancelledError&) {
            }
            try {
                tg.create_task(value_after(0, 1));
            } catch (const asyncio::RuntimeError& e) {
                shutting = e.what();
            }
        });
    } catch (const asyncio::ExceptionGroup&) {
    }
    EXPECT_EQ(shutting, "TaskGroup is shutting down");
    asyncio::TaskGroup tg;
    co_await tg.join();
    try {
        tg.create_task(value_after(0, 1));
    } catch (const asyncio::RuntimeError& e) {
        finished = e.what();
    }
    EXPECT_EQ(finished, "TaskGroup is finished");
    EXPECT_THROW(co_await tg.join(), asyncio::RuntimeError);  // entered/exited twice
    EXPECT_TRUE(asyncio::testing::take_reports().empty());    // closed coroutines: no warning
}

TEST(TaskGroup, MadeOutsideATaskIsNotEntered) {
    int fds = asyncio::testing::open_fd_count();
    auto l = asyncio::testing::make_test_loop();
    asyncio::set_event_loop(l);
    {
        asyncio::TaskGroup tg;
        try {
            tg.create_task(asyncio::sleep(0));
            ADD_FAILURE() << "create_task outside a task";
        } catch (const asyncio::RuntimeError& e) {
            EXPECT_STREQ(e.what(), "TaskGroup has not been entered");
        }
        EXPECT_THROW(l->run_until_complete(tg.join()), asyncio::RuntimeError);
    }
    asyncio::set_event_loop(nullptr);
    asyncio::testing::close_and_check(l, fds);
}

// parity #77: test_cancelling_level_preserved / test_cancellation_does_not_leak_out_of_tg /
// test_nested_groups_both_cancelled / test_error_and_cancel
ASYNCIO_TEST(TaskGroup, ParentCancellingCountIsRestored) {
    try {
        co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            tg.create_task(zde_after(0));
            co_await asyncio::sleep(10);
        });
    } catch (const asyncio::ExceptionGroup&) {
    }
    EXPECT_EQ(asyncio::current_task().cancelling(), 0u);
    co_await asyncio::sleep(0);  // not cancelled

    // Two nested failing groups: 1 between the exits, 0 after both.
    std::uint32_t between = 99;
    try {
        co_await asyncio::task_group([&](asyncio::TaskGroup& outer) -> asyncio::Coro<void> {
            outer.create_task(zde_after(0));
            try {
                co_await asyncio::task_group([](asyncio::TaskGroup& inner) -> asyncio::Coro<void> {
                    inner.create_task(zde_after(0));
                    co_await asyncio::sleep(10);
                });
            } catch (const asyncio::ExceptionGroup&) {
            }
            between = asyncio::current_task().cancelling();
        });
    } catch (const asyncio::ExceptionGroup&) {
    }
    EXPECT_EQ(between, 1u);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0u);
}

namespace {
asyncio::Coro<void> error_and_cancel(std::uint32_t* level, bool* next_cancelled) {
    try {
        co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
            tg.create_task(zde_after(0.1));
            co_await asyncio::sleep(10);
        });
    } catch (const asyncio::ExceptionGroup&) {
    }
    *level = asyncio::current_task().cancelling();
    try {
        co_await asyncio::sleep(0);
    } catch (const asyncio::CancelledError&) {
        *next_cancelled = true;
        throw;
    }
}
}  // namespace
ASYNCIO_TEST(TaskGroup, OutsideCancelDuringFailureStaysPending) {
    std::uint32_t level = 99;
    bool next_cancelled = false;
    auto t = asyncio::create_task(error_and_cancel(&level, &next_cancelled));
    co_await asyncio::sleep(0.1);  // the child fails now; cancel from outside meanwhile
    t.cancel();
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
    }
    EXPECT_EQ(level, 1u);
    EXPECT_TRUE(next_cancelled);
}

// parity #78: test_taskgroup_23 / _24 / _25
namespace {
asyncio::Coro<void> hydra(asyncio::TaskGroup* tg, int* count, int depth) {
    ++*count;
    co_await asyncio::sleep(0.01);
    if (depth < 3) {
        tg->create_task(hydra(tg, count, depth + 1));
        tg->create_task(hydra(tg, count, depth + 1));
    }
}
}  // namespace
ASYNCIO_TEST(TaskGroup, ChildrenMayAddChildren) {
    int count = 0;
    asyncio::TaskGroup tg;
    tg.create_task(hydra(&tg, &count, 0));
    co_await tg.join();
    EXPECT_EQ(count, 15);
    EXPECT_GE(count, 10);
}

ASYNCIO_TEST(TaskGroup, DestroyedWithoutJoinCancelsAndReports) {
    asyncio::Task<int> t;
    {
        asyncio::TaskGroup tg;
        t = tg.create_task(value_after(10, 1));
    }
    co_await asyncio::sleep(0);
    EXPECT_TRUE(t.cancelled());
    auto reports = asyncio::testing::take_reports();
    CO_ASSERT(reports.size() == 1u);
    EXPECT_EQ(reports[0].message,
              "TaskGroup destroyed without join(): cancelled its 1 unfinished task");
}

ASYNCIO_TEST(TaskGroup, BodyResultComesBack) {
    int v = co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coro<int> {
        auto a = tg.create_task(value_after(0.1, 1));
        auto b = tg.create_task(value_after(0.2, 2));
        co_return (co_await a) + (co_await b);
    });
    EXPECT_EQ(v, 3);
}
