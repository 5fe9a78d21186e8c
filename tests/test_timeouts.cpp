// timeout() / timeout_at(): parity #61–#68 (CPython test_timeouts::TimeoutTests).
#include <cmath>
#include <stdexcept>
#include <string>

#include "asyncio_test.hpp"

using namespace std::chrono_literals;
using asyncio::testing::loop;

namespace {
struct ZeroDivision : std::runtime_error {
    ZeroDivision() : std::runtime_error("division by zero") {}
};
struct KeyError : std::runtime_error {
    KeyError() : std::runtime_error("key") {}
};
using State = asyncio::Timeout::State;
}  // namespace

// parity #61: test_timeout_basic / test_timeout_at_basic / test_timeout_not_called /
// test_timeout_disabled
ASYNCIO_TEST(Timeouts, ExpiredDeadlineRaisesTimeoutError) {
    double t0 = loop().time();
    asyncio::Timeout cm(t0 + 0.01);
    bool timed_out = false;
    try {
        co_await cm.run(asyncio::sleep(10));
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(cm.expired());
    EXPECT_EQ(cm.when(), t0 + 0.01);
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.01);

    timed_out = false;
    try {
        co_await asyncio::timeout(0.01, asyncio::sleep(10));
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);

    timed_out = false;
    try {
        co_await asyncio::timeout_at(loop().time() + 0.01, asyncio::sleep(10));
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
}

ASYNCIO_TEST(Timeouts, UnfiredTimeoutIsNotExpiredAndDisabledNeverFires) {
    asyncio::Timeout cm(loop().time() + 10);
    co_await cm.run(asyncio::sleep(0.01));
    EXPECT_FALSE(cm.expired());
    EXPECT_GT(*cm.when(), loop().time());
    EXPECT_EQ(cm.state(), State::EXITED);

    asyncio::Timeout none(std::nullopt);
    co_await none.run(asyncio::sleep(100));
    EXPECT_FALSE(none.when().has_value());
    EXPECT_FALSE(none.expired());
    int v = co_await asyncio::timeout(std::nullopt, asyncio::sleep(1, 5));
    EXPECT_EQ(v, 5);
}

// parity #62: test_timeout_zero / test_timeout_zero_sleep_zero /
// test_timeout_in_the_past_sleep_zero
ASYNCIO_TEST(Timeouts, ZeroOrPastDeadlineFiresAtTheNextIteration) {
    for (double d : {0.0, -11.0}) {
        bool timed_out = false;
        try {
            co_await asyncio::timeout(d, asyncio::sleep(0));
        } catch (const asyncio::TimeoutError&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out) << d;
    }
}

// parity #63: test_nested_timeouts
ASYNCIO_TEST(Timeouts, NestedTimeoutsConvertOnlyAtTheOutermostLevel) {
    double when = loop().time() + 0.01;
    asyncio::Timeout outer(when);
    asyncio::Timeout inner(when);
    bool inner_saw_cancel = false, outer_timed_out = false;
    try {
        co_await outer.run([&]() -> asyncio::Coro<void> {
            try {
                co_await inner.run(asyncio::sleep(10));
            } catch (const asyncio::CancelledError&) {
                inner_saw_cancel = true;
                throw;
            }
        });
    } catch (const asyncio::TimeoutError&) {
        outer_timed_out = true;
    }
    EXPECT_TRUE(inner_saw_cancel);
    EXPECT_TRUE(outer_timed_out);
    EXPECT_TRUE(inner.expired());
    EXPECT_TRUE(outer.expired());
    EXPECT_EQ(asyncio::current_task().cancelling(), 0u);
}

// parity #64: test_nested_timeouts_loop_busy
ASYNCIO_TEST(Timeouts, OuterStillFiresAfterACaughtInnerTimeout) {
    double t0 = loop().time();
    bool outer_fired = false;
    try {
        co_await asyncio::timeout(0.1, [](asyncio::Timeout&) -> asyncio::Coro<void> {
            try {
                co_await asyncio::timeout(0.01, asyncio::sleep(1));
            } catch (const asyncio::TimeoutError&) {
            }
            co_await asyncio::sleep(10);
        });
    } catch (const asyncio::TimeoutError&) {
        outer_fired = true;
    }
    EXPECT_TRUE(outer_fired);
    EXPECT_LT(loop().time() - t0, 1.0);
}

// parity #65: test_foreign_cancel_doesnt_timeout_if_not_expired / test_outer_task_is_not_cancelled
namespace {
asyncio::Coro<void> cancels_itself(asyncio::Timeout* cm) {
    co_await cm->run([]() -> asyncio::Coro<void> {
        asyncio::current_task().cancel();
        co_await asyncio::sleep(10);
    });
}
asyncio::Coro<int> catches_timeout() {
    try {
        co_await asyncio::timeout(0.01, asyncio::sleep(10));
    } catch (const asyncio::TimeoutError&) {
    }
    co_await asyncio::sleep(0);
    co_return 1;
}
}  // namespace
ASYNCIO_TEST(Timeouts, ForeignCancelStaysACancel) {
    asyncio::Timeout cm(loop().time() + 10);
    auto t = asyncio::create_task(cancels_itself(&cm));
    bool cancelled = false;
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_FALSE(cm.expired());

    auto t2 = asyncio::create_task(catches_timeout());
    EXPECT_EQ(co_await t2, 1);
    EXPECT_FALSE(t2.cancelled());
}

// parity #66: test_timeout_after_cancellation / test_cancel_in_timeout_after_cancellation
namespace {
asyncio::Coro<std::string> cleanup_after_cancel(bool cancel_again) {
    bool caught = false;
    try {
        asyncio::current_task().cancel();
        co_await asyncio::sleep(1);
    } catch (const asyncio::CancelledError&) {
        caught = true;  // no uncancel(): cancelling() stays 1
    }
    if (!caught) co_return "not cancelled";
    try {
        if (cancel_again)
            co_await asyncio::timeout(1, []() -> asyncio::Coro<void> {
                asyncio::current_task().cancel();
                co_await asyncio::sleep(2);
            });
        else
            co_await asyncio::timeout(0, asyncio::sleep(1));
    } catch (const asyncio::TimeoutError&) {
        co_return "timeout";
    } catch (const asyncio::CancelledError&) {
        co_return "cancelled";
    }
    co_return "nothing";
}
}  // namespace
ASYNCIO_TEST(Timeouts, TimeoutInCleanupOfACaughtCancellation) {
    EXPECT_EQ(co_await asyncio::create_task(cleanup_after_cancel(false)), "timeout");
    EXPECT_EQ(co_await asyncio::create_task(cleanup_after_cancel(true)), "cancelled");
}

// parity #67: test_reschedule + test_timeout_finished/expired/expiring/not_entered/
// already_entered/double_enter/without_task
ASYNCIO_TEST(Timeouts, RescheduleAndStateErrors) {
    double t0 = loop().time();
    asyncio::Timeout cm(t0 + 10);
    EXPECT_THROW(cm.reschedule(t0 + 1), asyncio::RuntimeError);  // not entered
    try {
        cm.reschedule(1);
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Timeout has not been entered");
    }
    co_await cm.run([&](asyncio::Timeout& self) -> asyncio::Coro<void> {
        self.reschedule(t0 + 20);
        EXPECT_EQ(self.when(), t0 + 20);
        self.reschedule(std::nullopt);
        EXPECT_FALSE(self.when().has_value());
        co_await asyncio::sleep(30);  // disabled: never fires
        bool again = false;
        try {
            co_await self.run(asyncio::sleep(0));
        } catch (const asyncio::RuntimeError& e) {
            again = std::string(e.what()) == "Timeout has already been entered";
        }
        EXPECT_TRUE(again);
    });
    try {
        cm.reschedule(t0);
        ADD_FAILURE() << "reschedule after exit";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Cannot change state of finished Timeout");
    }
    asyncio::Timeout expired(loop().time() + 0.01);
    try {
        co_await expired.run([](asyncio::Timeout& self) -> asyncio::Coro<void> {
            std::exception_ptr e;
            try {
                co_await asyncio::sleep(1);
            } catch (const asyncio::CancelledError&) {
                e = std::current_exception();
            }
            try {
                self.reschedule(0);
            } catch (const asyncio::RuntimeError& err) {
                EXPECT_STREQ(err.what(), "Cannot change state of expiring Timeout");
            }
            if (e) std::rethrow_exception(e);
        });
    } catch (const asyncio::TimeoutError&) {
    }
    EXPECT_THROW(expired.reschedule(0), asyncio::RuntimeError);  // expired
}

// parity #67 (test_timeout_without_task): entering outside a task cannot happen in C++: the
// body is a Coro, and a Coro only runs inside a task. Timeout::run still checks
// current_task() ("Timeout should be used inside a task").

// parity #68: test_foreign_exception_passed / test_foreign_exception_on_timeout /
// test_timeout_taskgroup
ASYNCIO_TEST(Timeouts, ForeignExceptionsPassThrough) {
    asyncio::Timeout cm(loop().time() + 10);
    bool key = false;
    try {
        co_await cm.run([]() -> asyncio::Coro<void> {
            co_await asyncio::sleep(0);
            throw KeyError();
        });
    } catch (const KeyError&) {
        key = true;
    }
    EXPECT_TRUE(key);
    EXPECT_FALSE(cm.expired());

    bool zde = false;
    try {
        co_await asyncio::timeout(0.01, []() -> asyncio::Coro<void> {
            try {
                co_await asyncio::sleep(1);
            } catch (const asyncio::CancelledError&) {
                throw ZeroDivision();
            }
        });
    } catch (const ZeroDivision&) {
        zde = true;
    }
    EXPECT_TRUE(zde);

    bool group = false;
    try {
        co_await asyncio::timeout(0.01, []() -> asyncio::Coro<void> {
            co_await asyncio::task_group([](asyncio::TaskGroup& tg) -> asyncio::Coro<void> {
                tg.create_task([]() -> asyncio::Coro<void> {
                    try {
                        co_await asyncio::sleep(1);
                    } catch (const asyncio::CancelledError&) {
                        throw ZeroDivision();
                    }
                }());
                co_await asyncio::sleep(1);
            });
        });
    } catch (const asyncio::ExceptionGroup& eg) {
        group = eg.exceptions().size() == 1 &&
                asyncio::exception_message(eg.exceptions()[0]) == "division by zero";
    }
    EXPECT_TRUE(group);
    EXPECT_EQ(asyncio::current_task().cancelling(), 0u);
}

ASYNCIO_TEST(Timeouts, BodyResultComesBack) {
    std::string s = co_await asyncio::timeout(1s, asyncio::sleep(0.5, std::string("v")));
    EXPECT_EQ(s, "v");
    EXPECT_STREQ(asyncio::Timeout::state_name(State::ENTERED), "active");
}

// A NaN deadline is refused (CPython's selector fails later, on the NaN poll timeout) before
// anything changes: the deadline set before stays armed and still fires.
ASYNCIO_TEST(Timeouts, RescheduleToNaNThrowsAndKeepsTheOldDeadline) {
    double t0 = loop().time();
    asyncio::Timeout cm(t0 + 0.5);
    bool timed_out = false;
    try {
        co_await cm.run([&](asyncio::Timeout& self) -> asyncio::Coro<void> {
            EXPECT_THROW(self.reschedule(std::nan("")), std::invalid_argument);
            EXPECT_EQ(self.when(), t0 + 0.5);
            EXPECT_EQ(self.state(), State::ENTERED);
            co_await asyncio::sleep(10);
        });
    } catch (const asyncio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_DOUBLE_EQ(loop().time() - t0, 0.5);
}
