// Signals delivered on the loop: add_signal_handler / remove_signal_handler, several loops,
// EINTR, close(), and run()'s SIGINT → cancel the main task → KeyboardInterrupt.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "asyncio_test.hpp"

using namespace std::chrono_literals;
using asyncio::testing::loop;

namespace {

void (*disposition(int sig))(int) {
    struct sigaction sa {};
    ::sigaction(sig, nullptr, &sa);
    return sa.sa_handler;
}

}  // namespace

ASYNCIO_TEST_REALTIME(Signals, HandlerRunsOnTheLoopWhenTheSignalArrives) {
    auto got = loop().create_future<int>();
    loop().add_signal_handler(
        SIGUSR1, [got](int sig) { got.set_result(sig); }, SIGUSR1);
    ::kill(::getpid(), SIGUSR1);
    int sig = co_await got;
    EXPECT_EQ(sig, SIGUSR1);
    EXPECT_TRUE(loop().remove_signal_handler(SIGUSR1));
    EXPECT_FALSE(loop().remove_signal_handler(SIGUSR1));
}

ASYNCIO_TEST_REALTIME(Signals, ASignalFromAnotherThreadWakesTheLoop) {
    int count = 0;
    loop().add_signal_handler(SIGUSR2, [&count] { ++count; });
    std::thread t([] {
        std::this_thread::sleep_for(20ms);
        ::kill(::getpid(), SIGUSR2);
    });
    for (int i = 0; i < 200 && count == 0; ++i) co_await asyncio::sleep(0.01);
    t.join();
    EXPECT_EQ(count, 1);
    loop().remove_signal_handler(SIGUSR2);
}

TEST(Signals, RemoveRestoresTheActionTheSignalHadBefore) {
    auto l = asyncio::new_event_loop();
    ::signal(SIGUSR2, SIG_IGN);
    l->add_signal_handler(SIGUSR2, [] {});
    EXPECT_NE(disposition(SIGUSR2), SIG_IGN);
    EXPECT_TRUE(l->remove_signal_handler(SIGUSR2));
    EXPECT_EQ(disposition(SIGUSR2), SIG_IGN);
    ::signal(SIGUSR2, SIG_DFL);
    l->close();
}

TEST(Signals, CloseRemovesTheLoopsHandlers) {
    auto l = asyncio::new_event_loop();
    ::signal(SIGUSR1, SIG_IGN);
    l->add_signal_handler(SIGUSR1, [] {});
    l->close();
    EXPECT_EQ(disposition(SIGUSR1), SIG_IGN);
    ::signal(SIGUSR1, SIG_DFL);
    // the signal is free for another loop now
    auto l2 = asyncio::new_event_loop();
    l2->add_signal_handler(SIGUSR1, [] {});
    l2->close();
}

// CPython test_unix_events::SelectorEventLoopSignalTests::test_add_signal_handler_install_error*
TEST(Signals, InvalidAndUncatchableSignalsAreRefused) {
    auto l = asyncio::new_event_loop();
    EXPECT_THROW(l->add_signal_handler(0, [] {}), std::invalid_argument);
    EXPECT_THROW(l->add_signal_handler(65, [] {}), std::invalid_argument);
    EXPECT_THROW(l->add_signal_handler(SIGKILL, [] {}), asyncio::RuntimeError);
    EXPECT_THROW(l->add_signal_handler(SIGSTOP, [] {}), asyncio::RuntimeError);
    EXPECT_THROW(l->remove_signal_handler(0), std::invalid_argument);
    l->close();
    EXPECT_THROW(l->add_signal_handler(SIGUSR1, [] {}), asyncio::RuntimeError);  // closed
}

TEST(Signals, SeveralLoopsInSeveralThreadsEachGetTheirOwnSignal) {
    struct Side {
        asyncio::EventLoopPtr loop = asyncio::new_event_loop();
        std::atomic<int> hits{0};
        std::thread::id handled_on;
        std::thread thread;
    };
    Side a, b;
    a.loop->add_signal_handler(SIGUSR1, [&a] {
        a.handled_on = std::this_thread::get_id();
        ++a.hits;
        a.loop->stop();
    });
    b.loop->add_signal_handler(SIGUSR2, [&b] {
        b.handled_on = std::this_thread::get_id();
        ++b.hits;
        b.loop->stop();
    });
    EXPECT_THROW(b.loop->add_signal_handler(SIGUSR1, [] {}), asyncio::RuntimeError);
    std::thread::id ida, idb;
    a.thread = std::thread([&] {
        ida = std::this_thread::get_id();
        a.loop->run_forever();
    });
    b.thread = std::thread([&] {
        idb = std::this_thread::get_id();
        b.loop->run_forever();
    });
    std::this_thread::sleep_for(20ms);
    ::kill(::getpid(), SIGUSR1);
    ::kill(::getpid(), SIGUSR2);
    a.thread.join();
    b.thread.join();
    EXPECT_EQ(a.hits.load(), 1);
    EXPECT_EQ(b.hits.load(), 1);
    EXPECT_EQ(a.handled_on, ida);
    EXPECT_EQ(b.handled_on, idb);
    a.loop->close();
    b.loop->close();
}

// A blocking read in another thread is restarted after the signal (SA_RESTART), and the
// loop's own wait treats EINTR as a wake-up: no EINTR reaches user code.
ASYNCIO_TEST_REALTIME(Signals, EintrNeverReachesUserCode) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        ADD_FAILURE() << "pipe2";
        co_return;
    }
    std::atomic<int> handled{0};
    loop().add_signal_handler(SIGUSR1, [&handled] { ++handled; });
    std::atomic<ssize_t> got{-2};
    std::atomic<int> err{0};
    std::thread reader([&] {
        char c;
        ssize_t n = ::read(fds[0], &c, 1);
        err = n < 0 ? errno : 0;
        got = n;
    });
    std::thread pinger([&] {
        for (int i = 0; i < 10; ++i) {
            ::pthread_kill(reader.native_handle(), SIGUSR1);  // interrupts the blocking read
            std::this_thread::sleep_for(5ms);
        }
        char c = 'x';
        (void)::write(fds[1], &c, 1);
    });
    auto t0 = std::chrono::steady_clock::now();
    co_await asyncio::sleep(0.1);  // the loop's epoll_wait is interrupted too
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 95ms);
    pinger.join();
    reader.join();
    EXPECT_EQ(got.load(), 1) << "read failed with errno " << err.load();
    for (int i = 0; i < 100 && handled == 0; ++i) co_await asyncio::sleep(0.01);
    EXPECT_GE(handled.load(), 1);
    loop().remove_signal_handler(SIGUSR1);
    ::close(fds[0]);
    ::close(fds[1]);
}

ASYNCIO_TEST_REALTIME(Signals, AHandlerThatThrowsIsReportedAndTheLoopGoesOn) {
    auto done = loop().create_future<void>();
    loop().add_signal_handler(SIGUSR2, [done] {
        done.set_result();
        throw std::runtime_error("in handler");
    });
    ::kill(::getpid(), SIGUSR2);
    co_await done;
    co_await asyncio::sleep(0);
    auto reports = asyncio::testing::take_reports();
    EXPECT_EQ(reports.size(), 1u);
    if (reports.size() != 1) co_return;
    EXPECT_NE(reports[0].message.find("Exception in callback"), std::string::npos);
    EXPECT_EQ(reports[0].exception, "std::runtime_error: in handler");
    loop().remove_signal_handler(SIGUSR2);
}

// parity #102 (second half) — test_runners::RunnerTests::test_interrupt_wait: SIGINT while
// the main task awaits a future cancels that future, the main task sees CancelledError, and
// run() raises KeyboardInterrupt.
TEST(RunnerSigint, InterruptWhileAwaitingCancelsTheMainTaskThenRaisesKeyboardInterrupt) {
    bool main_saw_cancel = false;
    asyncio::Future<void> fut;
    auto main = [](bool* saw, asyncio::Future<void>* out) -> asyncio::Coro<void> {
        auto& l = asyncio::get_running_loop();
        *out = l.create_future<void>();
        l.call_later(0.01, [] { ::kill(::getpid(), SIGINT); });
        try {
            co_await *out;
        } catch (const asyncio::CancelledError&) {
            *saw = true;
            throw;
        }
    };
    EXPECT_THROW(asyncio::run(main(&main_saw_cancel, &fut)), asyncio::KeyboardInterrupt);
    EXPECT_TRUE(main_saw_cancel);
    EXPECT_TRUE(fut.cancelled());
    EXPECT_EQ(disposition(SIGINT), SIG_DFL);  // run() gave SIGINT back
    fut = {};
}

// A main task that swallows the cancellation and returns: run() still raises
// KeyboardInterrupt only if the cancel request stands (CPython: uncancel() == 0 check).
TEST(RunnerSigint, MainTaskThatCatchesTheInterruptAndReturnsFinishesNormally) {
    auto main = []() -> asyncio::Coro<int> {
        asyncio::get_running_loop().call_later(0.01, [] { ::kill(::getpid(), SIGINT); });
        try {
            co_await asyncio::sleep(30);
        } catch (const asyncio::CancelledError&) {
            asyncio::current_task().uncancel();
            co_return 7;
        }
        co_return 0;
    };
    EXPECT_EQ(asyncio::run(main()), 7);
}

TEST(RunnerSigint, SigintWithACustomHandlerIsLeftAlone) {
    static std::atomic<int> hits{0};
    ::signal(SIGINT, [](int) { ++hits; });
    int v = asyncio::run([]() -> asyncio::Coro<int> {
        ::kill(::getpid(), SIGINT);
        co_await asyncio::sleep(0.01);
        co_return 1;
    }());
    EXPECT_EQ(v, 1);
    EXPECT_EQ(hits.load(), 1);
    ::signal(SIGINT, SIG_DFL);
}

// CPython: a second Ctrl-C while the first is still unhandled raises KeyboardInterrupt
// wherever the program is, so a loop stuck in a callback can still be stopped. Here the
// second SIGINT, arriving before the loop has taken the first, ends the program by the
// default action.
TEST(SignalsDeathTest, ASecondSigintWhileTheFirstIsUnhandledInterruptsTheProgram) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            asyncio::run([]() -> asyncio::Coro<void> {
                asyncio::get_running_loop().add_signal_handler(SIGINT, [] {});
                ::kill(::getpid(), SIGINT);  // taken only once this step returns...
                ::kill(::getpid(), SIGINT);  // ...which it never does
                auto until = std::chrono::steady_clock::now() + 20s;
                while (std::chrono::steady_clock::now() < until) {
                }
                std::_Exit(0);
                co_return;
            }());
        },
        ::testing::KilledBySignal(SIGINT), "");
}

// One SIGINT that the loop takes in time only runs the handler; so does a later one.
ASYNCIO_TEST_REALTIME(Signals, SigintsTakenInTimeOnlyRunTheHandler) {
    int count = 0;
    loop().add_signal_handler(SIGINT, [&] { ++count; });
    ::kill(::getpid(), SIGINT);
    co_await asyncio::sleep(0.05);
    ::kill(::getpid(), SIGINT);
    co_await asyncio::sleep(0.05);
    EXPECT_EQ(count, 2);
    loop().remove_signal_handler(SIGINT);
}
