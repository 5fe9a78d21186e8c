// Debug mode (EventLoop::set_debug, LoopOptions::debug, RunOptions::debug, ASYNCIO_DEBUG):
// each report's exact text, the creation site of tasks, the thread check of every
// non-thread-safe loop method, the environment variable. CPython: base_events._run_once's
// slow-callback warning, base_futures' "created at", coroutines' "never awaited",
// _check_thread, _SelectorTransport.__del__.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "asyncio_test.hpp"

using namespace std::chrono_literals;

namespace {

struct Seen {
    std::string message;
    std::string details;
    std::string task;  // the task's repr
    std::optional<std::source_location> where;
};

/// A debug-mode loop whose exception handler records every report.
struct DebugLoop {
    asyncio::EventLoopPtr l = asyncio::new_event_loop({.debug = true});
    std::vector<Seen> seen;
    /// Every report's message, one a line (for a failure's text).
    std::string messages() const {
        std::string out;
        for (const Seen& s : seen) out += s.message + "\n";
        return out;
    }
    DebugLoop() {
        // No slow-step report unless a test asks for one: under ASan at -O0 the first
        // symbol lookup of a report alone takes over the default 0.1 s.
        l->set_slow_callback_duration(60.0);
        l->set_exception_handler([this](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
            seen.push_back(
                {c.message, c.details, c.task ? c.task.core()->repr() : "", c.source_traceback});
        });
    }
};

void run_once(asyncio::EventLoop& l) {
    l.stop();
    l.run_forever();
}

/// `text` as a regex that matches it literally.
std::string escaped(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (std::string(".+()[]{}^$*?|\\").find(c) != std::string::npos) out += '\\';
        out += c;
    }
    return out;
}

std::string here(unsigned line) { return std::string(__FILE__) + ":" + std::to_string(line); }

}  // namespace

namespace debug_tests {
// Static or not, exported or not: reports name them by their symbol.
static void slow_callback() { std::this_thread::sleep_for(30ms); }
void noop() {}
void noop_with(int) {}
asyncio::Coro<int> forgotten() { co_return 1; }
asyncio::Coro<void> slow_step() {
    std::this_thread::sleep_for(30ms);
    co_return;
}
asyncio::Coro<void> boom() {
    throw std::invalid_argument("boom");
    co_return;
}
asyncio::Coro<void> forever() { co_await asyncio::sleep(1e6); }
}  // namespace debug_tests

TEST(DebugMode, ASlowCallbackIsReportedByNameInCPythonsWords) {
    DebugLoop d;
    d.l->set_slow_callback_duration(0.01);
    unsigned line = __LINE__ + 1;
    d.l->call_soon(&debug_tests::slow_callback);
    run_once(*d.l);
    ASSERT_EQ(d.seen.size(), 1u);
    EXPECT_TRUE(std::regex_match(
        d.seen[0].message,
        std::regex("Executing <Handle debug_tests::slow_callback\\(\\) created at " +
                   escaped(here(line)) + "> took 0\\.\\d{3} seconds")))
        << d.seen[0].message;
    d.l->close();
}

TEST(DebugMode, ASlowLambdaIsNamedByItsType) {
    DebugLoop d;
    d.l->set_slow_callback_duration(0.01);
    d.l->call_later(0, [] { std::this_thread::sleep_for(30ms); });
    d.l->run_until_complete(asyncio::sleep(0));
    ASSERT_EQ(d.seen.size(), 1u);
    EXPECT_TRUE(std::regex_match(
        d.seen[0].message,
        std::regex(
            R"(Executing <TimerHandle .*lambda.*\(\) created at .*> took 0\.\d{3} seconds)")))
        << d.seen[0].message;
    d.l->close();
}

TEST(DebugMode, ASlowTaskStepIsReportedWithTheTaskAndWhereItWasCreated) {
    DebugLoop d;
    d.l->set_slow_callback_duration(0.01);
    unsigned line = __LINE__ + 1;
    auto t = d.l->create_task(debug_tests::slow_step(), {.name = "slowpoke"});
    d.l->run_until_complete(t);
    ASSERT_EQ(d.seen.size(), 1u);
    std::string where = std::string(__FILE__) + ":" + std::to_string(line);
    std::string expected = "Executing <Task finished name='slowpoke' created at " + where +
                           "> took 0\\.\\d{3} seconds";
    // the file name may hold regex metacharacters ('.', '+'): escape them
    std::string pattern;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        char c = expected[i];
        bool in_where = i >= expected.find(where) && i < expected.find(where) + where.size();
        if (in_where && std::string(".+()[]{}^$*?|\\").find(c) != std::string::npos)
            pattern += '\\';
        pattern += c;
    }
    EXPECT_TRUE(std::regex_match(d.seen[0].message, std::regex(pattern))) << d.seen[0].message;
    d.l->close();
}

TEST(DebugMode, FastCallbacksAndNonDebugLoopsReportNothing) {
    DebugLoop d;
    d.l->call_soon([] {});
    run_once(*d.l);
    EXPECT_TRUE(d.seen.empty());
    d.l->close();
    auto plain = asyncio::testing::make_test_loop(true);
    plain->set_slow_callback_duration(0.001);
    plain->call_soon(&debug_tests::slow_callback);
    run_once(*plain);
    EXPECT_TRUE(asyncio::testing::take_reports().empty());
    plain->close();
}

// CPython: test_events.HandleTests.test_handle_repr_debug, test_timer_repr_debug. CPython's
// repr also names where the callback is defined ("cb() at file:line"), which C++ cannot
// know (docs/footguns.md).
TEST(DebugMode, AHandleShowsWhereItWasCreatedAsCPythonsHandle) {
    DebugLoop d;
    unsigned soon = __LINE__ + 1;
    asyncio::Handle h = d.l->call_soon(&debug_tests::noop);
    unsigned later = __LINE__ + 1;
    asyncio::TimerHandle t = d.l->call_later(10, &debug_tests::noop);
    unsigned at = __LINE__ + 1;
    asyncio::TimerHandle u = d.l->call_at(d.l->time() + 10, &debug_tests::noop);
    EXPECT_EQ(h.impl()->repr(), "<Handle debug_tests::noop() created at " + here(soon) + ">");
    EXPECT_EQ(t.impl()->repr(), "<TimerHandle debug_tests::noop() created at " + here(later) + ">");
    t.cancel();
    EXPECT_EQ(t.impl()->repr(),
              "<TimerHandle debug_tests::noop() cancelled created at " + here(later) + ">");
    EXPECT_EQ(u.impl()->repr(), "<TimerHandle debug_tests::noop() created at " + here(at) + ">");
    u.cancel();
    // With arguments, call_soon() cannot take the site (no default argument after a pack).
    asyncio::Handle args = d.l->call_soon(&debug_tests::noop_with, 1);
    EXPECT_EQ(args.impl()->repr(), "<Handle debug_tests::noop_with()>");
    run_once(*d.l);
    d.l->close();

    auto plain = asyncio::testing::make_test_loop();
    asyncio::Handle p = plain->call_soon(&debug_tests::noop);
    EXPECT_EQ(p.impl()->repr(), "<Handle debug_tests::noop()>");
    EXPECT_FALSE(p.impl()->created_at().has_value());
    run_once(*plain);
    plain->close();
}

TEST(DebugMode, AFailingCallbackCarriesItsCreationSite) {
    DebugLoop d;
    unsigned line = __LINE__ + 1;
    d.l->call_soon([] { throw std::invalid_argument("bad"); });
    run_once(*d.l);
    ASSERT_EQ(d.seen.size(), 1u);
    EXPECT_TRUE(std::regex_match(
        d.seen[0].message, std::regex("Exception in callback <Handle .*lambda.*\\(\\) created at " +
                                      escaped(here(line)) + ">")))
        << d.seen[0].message;
    ASSERT_TRUE(d.seen[0].where.has_value());
    EXPECT_EQ(d.seen[0].where->line(), line);
    d.l->close();
}

TEST(DebugMode, NeverRetrievedCarriesTheCreationSite) {
    DebugLoop d;
    unsigned line = __LINE__ + 1;
    auto t = d.l->create_task(debug_tests::boom());
    run_once(*d.l);
    ASSERT_TRUE(t.done());
    std::string name = t.get_name();
    t = {};
    ASSERT_EQ(d.seen.size(), 1u);
    EXPECT_EQ(d.seen[0].message, "Task exception was never retrieved");
    std::string where = std::string(__FILE__) + ":" + std::to_string(line);
    EXPECT_EQ(d.seen[0].details, "future: <Task finished name='" + name +
                                     "' exception=std::invalid_argument: boom created at " + where +
                                     ">");
    ASSERT_TRUE(d.seen[0].where.has_value());
    EXPECT_EQ(d.seen[0].where->line(), line);
    EXPECT_STREQ(d.seen[0].where->file_name(), __FILE__);
    d.l->close();
}

TEST(DebugMode, TheDefaultHandlerPrintsTheSourceTracebackAsCPython) {
    auto l = asyncio::new_event_loop({.debug = true});
    unsigned line = __LINE__ + 1;
    auto t = l->create_task(debug_tests::boom());
    run_once(*l);
    ::testing::internal::CaptureStderr();
    t = {};
    std::string err = ::testing::internal::GetCapturedStderr();
    std::string expected_trace =
        "\nsource_traceback: Object created at (most recent call last):\n"
        "  File \"" +
        std::string(__FILE__) + "\", line " + std::to_string(line) + ", in ";
    EXPECT_EQ(err.rfind("Task exception was never retrieved\n", 0), 0u) << err;
    EXPECT_NE(err.find(expected_trace), std::string::npos) << err;
    EXPECT_NE(err.find("std::invalid_argument: boom"), std::string::npos) << err;
    l->close();
}

TEST(DebugMode, DestroyedButPendingCarriesTheCreationSite) {
    DebugLoop d;
    unsigned line = __LINE__ + 1;
    auto t = d.l->create_task(debug_tests::forever(), {.name = "stuck"});
    run_once(*d.l);
    d.l->close();
    ASSERT_EQ(d.seen.size(), 1u);
    EXPECT_EQ(d.seen[0].message, "Task was destroyed but it is pending!");
    EXPECT_EQ(d.seen[0].task, "<Task pending name='stuck' phase=sleeping created at " +
                                  std::string(__FILE__) + ":" + std::to_string(line) + ">");
    ASSERT_TRUE(d.seen[0].where.has_value());
    EXPECT_EQ(d.seen[0].where->line(), line);
}

TEST(DebugMode, OutsideDebugModeTasksKeepNoCreationSite) {
    auto l = asyncio::testing::make_test_loop();
    auto t = l->create_task(debug_tests::forever(), {.name = "plain"});
    EXPECT_FALSE(t.core()->created_at().has_value());
    EXPECT_EQ(t.core()->repr(), "<Task pending name='plain' phase=created>");
    t.cancel();
    l->run_until_complete(asyncio::sleep(0));
    l->close();
}

TEST(DebugMode, ACoroutineNeverAwaitedIsReportedAsCPythonsRuntimeWarning) {
    DebugLoop d;
    d.l->run_until_complete([]() -> asyncio::Coro<void> {
        { auto c = debug_tests::forgotten(); }
        co_return;
    }());
    ASSERT_EQ(d.seen.size(), 1u) << d.messages();
    EXPECT_EQ(d.seen[0].message,
              "RuntimeWarning: coroutine 'debug_tests::forgotten' was never awaited");
    d.l->close();
}

TEST(DebugMode, ACoroutineNeverAwaitedIsNotReportedOutsideDebugMode) {
    auto l = asyncio::testing::make_test_loop();
    l->run_until_complete([]() -> asyncio::Coro<void> {
        { auto c = debug_tests::forgotten(); }
        co_return;
    }());
    EXPECT_TRUE(asyncio::testing::take_reports().empty());
    l->close();
}

// ---------------------------------------------------------------------------------------
// The thread check: every non-thread-safe method, called while the loop runs in another
// thread, raises CPython's RuntimeError instead of racing on the loop.

namespace {

constexpr const char* wrong_thread =
    "Non-thread-safe operation invoked on an event loop other than the current one";

/// Runs a debug loop in a thread; the test calls its methods from the main thread.
struct LoopInThread {
    asyncio::EventLoopPtr l = asyncio::new_event_loop({.debug = true});
    std::thread t;
    LoopInThread() {
        std::atomic<bool> running{false};
        t = std::thread([this, &running] {
            l->call_soon([&running] { running = true; });
            l->run_forever();
        });
        while (!running) std::this_thread::yield();
    }
    ~LoopInThread() {
        l->call_soon_threadsafe([this] { l->stop(); });
        t.join();
        l->close();
    }
};

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const asyncio::RuntimeError& e) {
        return e.what();
    }
    return "no error";
}

/// Awaits `make()` (a Coro of the other loop's method) on a loop of this thread.
template <class F>
std::string error_when_awaited(F make) {
    auto here = asyncio::new_event_loop();
    std::string what = "no error";
    here->run_until_complete([](F make, std::string* what) -> asyncio::Coro<void> {
        try {
            co_await make();
        } catch (const asyncio::RuntimeError& e) {
            *what = e.what();
        } catch (const std::exception& e) {
            *what = std::string("other error: ") + e.what();
        }
    }(make, &what));
    here->close();
    return what;
}

}  // namespace

TEST(DebugModeThreads, EveryNonThreadSafeMethodRaisesFromAnotherThread) {
    LoopInThread lt;
    asyncio::EventLoop& l = *lt.l;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    EXPECT_EQ(error_of([&] { l.call_soon([] {}); }), wrong_thread);
    EXPECT_EQ(error_of([&] { l.call_later(1, [] {}); }), wrong_thread);
    EXPECT_EQ(error_of([&] { l.call_at(1, [] {}); }), wrong_thread);
    EXPECT_EQ(error_of([&] { (void)l.create_future<int>(); }), wrong_thread);
    EXPECT_EQ(error_of([&] { (void)l.create_task(debug_tests::forgotten()); }), wrong_thread);
    EXPECT_EQ(error_of([&] { l.add_reader(fds[0], [] {}); }), wrong_thread);
    EXPECT_EQ(error_of([&] { l.add_writer(fds[1], [] {}); }), wrong_thread);
    EXPECT_EQ(error_of([&] { l.remove_reader(fds[0]); }), wrong_thread);
    EXPECT_EQ(error_of([&] { l.remove_writer(fds[1]); }), wrong_thread);
    EXPECT_EQ(error_of([&] { l.add_signal_handler(SIGUSR2, [] {}); }), wrong_thread);
    EXPECT_EQ(error_of([&] { (void)l.run_in_executor(nullptr, [] { return 1; }); }), wrong_thread);
    // call_soon_threadsafe is the one way in
    EXPECT_EQ(error_of([&] { l.call_soon_threadsafe([] {}); }), "no error");
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST(DebugModeThreads, SocketAndConnectionMethodsRaiseWhenAwaitedFromAnotherThread) {
    LoopInThread lt;
    asyncio::EventLoop* l = lt.l.get();
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    asyncio::Socket s = asyncio::Socket::from_fd(sv[0], AF_UNIX, SOCK_STREAM, 0, false);
    char buf[8];
    auto proto = [] { return std::make_shared<asyncio::Protocol>(); };
    EXPECT_EQ(error_when_awaited([&] { return l->sock_recv(s, 8); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->sock_recv_into(s, buf); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->sock_recvfrom(s, 8); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->sock_recvfrom_into(s, buf); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->sock_sendall(s, "x"); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->sock_sendto(s, "x", asyncio::SockAddr()); }),
              wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->sock_connect(s, "127.0.0.1", 9); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->sock_accept(s); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->sock_sendfile(s, 0); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->create_connection(proto, "127.0.0.1", 9); }),
              wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->create_unix_connection(proto, "/nonexistent"); }),
              wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->create_server(proto, "127.0.0.1", 0); }),
              wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->create_unix_server(proto, ""); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] {
                  return l->create_datagram_endpoint(
                      [] { return std::make_shared<asyncio::DatagramProtocol>(); }, {});
              }),
              wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->connect_read_pipe(proto, -1); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->connect_write_pipe(proto, -1); }), wrong_thread);
    EXPECT_EQ(error_when_awaited([&] { return l->sendfile(nullptr, 0); }), wrong_thread);
    ::close(sv[1]);
}

// ---------------------------------------------------------------------------------------
// ASYNCIO_DEBUG (CPython's PYTHONASYNCIODEBUG), read when a loop is made.

namespace {
struct EnvGuard {
    std::optional<std::string> saved;
    EnvGuard() {
        if (const char* v = std::getenv("ASYNCIO_DEBUG")) saved = v;
    }
    ~EnvGuard() {
        if (saved)
            ::setenv("ASYNCIO_DEBUG", saved->c_str(), 1);
        else
            ::unsetenv("ASYNCIO_DEBUG");
    }
};
}  // namespace

TEST(DebugModeEnvironment, AsyncioDebugTurnsDebugModeOnForLoopsMadeAfterwards) {
    EnvGuard guard;
    ::unsetenv("ASYNCIO_DEBUG");
    auto before = asyncio::new_event_loop();
    EXPECT_FALSE(before->get_debug());
    ::setenv("ASYNCIO_DEBUG", "1", 1);
    auto after = asyncio::new_event_loop();
    EXPECT_TRUE(after->get_debug());
    EXPECT_FALSE(before->get_debug());  // read once, when the loop is made
    bool in_run = asyncio::run(
        []() -> asyncio::Coro<bool> { co_return asyncio::get_running_loop().get_debug(); }());
    EXPECT_TRUE(in_run);
    after->set_debug(false);  // set_debug still rules
    EXPECT_FALSE(after->get_debug());
    ::setenv("ASYNCIO_DEBUG", "0", 1);
    EXPECT_FALSE(asyncio::new_event_loop()->get_debug());
    ::setenv("ASYNCIO_DEBUG", "", 1);
    EXPECT_FALSE(asyncio::new_event_loop()->get_debug());
}

// ---------------------------------------------------------------------------------------
// Unclosed transports and servers (CPython's ResourceWarning).

TEST(DebugMode, ATransportLeftOpenAtLoopCloseIsReported) {
    DebugLoop d;
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    int fd = sv[0];
    d.l->run_until_complete([](asyncio::EventLoop* l, int fd) -> asyncio::Coro<void> {
        auto s = asyncio::Socket::from_fd(fd, AF_UNIX, SOCK_STREAM, 0, false);
        auto op = l->connect_accepted_socket([] { return std::make_shared<asyncio::Protocol>(); },
                                             std::move(s));
        auto r = co_await op;
        (void)r;
    }(d.l.get(), fd));
    d.l->close();
    ::close(sv[1]);
    ASSERT_EQ(d.seen.size(), 1u);
    EXPECT_EQ(d.seen[0].message,
              "ResourceWarning: unclosed transport <_SelectorSocketTransport fd=" +
                  std::to_string(fd) + ">");
}

TEST(DebugMode, AServerLeftOpenAtLoopCloseIsReported) {
    DebugLoop d;
    int fd = d.l->run_until_complete([](asyncio::EventLoop* l) -> asyncio::Coro<int> {
        auto op =
            l->create_server([] { return std::make_shared<asyncio::Protocol>(); }, "127.0.0.1", 0);
        asyncio::Server srv = co_await op;
        co_return srv.sockets().at(0).fileno();
    }(d.l.get()));
    d.l->close();
    ASSERT_EQ(d.seen.size(), 1u);
    EXPECT_EQ(d.seen[0].message,
              "ResourceWarning: unclosed server <Server sockets=(fd=" + std::to_string(fd) + ")>");
}

TEST(DebugMode, AClosedTransportIsNotReported) {
    DebugLoop d;
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    d.l->run_until_complete([](asyncio::EventLoop* l, int fd) -> asyncio::Coro<void> {
        auto s = asyncio::Socket::from_fd(fd, AF_UNIX, SOCK_STREAM, 0, false);
        auto op = l->connect_accepted_socket([] { return std::make_shared<asyncio::Protocol>(); },
                                             std::move(s));
        auto r = co_await op;
        r.first->close();
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
    }(d.l.get(), sv[0]));
    d.l->close();
    ::close(sv[1]);
    EXPECT_TRUE(d.seen.empty()) << d.seen[0].message;
}
