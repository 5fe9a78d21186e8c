// The async call graph (Python 3.14's asyncio.graph) and the loop's task tree.
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

using asyncio::testing::loop;

// The known program: three levels of await under a gather, a TaskGroup, a task parked on a
// Lock. Its coroutines take no parameters, so that their names read short.
namespace graphdemo {

asyncio::Future<void>* gate;
asyncio::Lock* lock;

asyncio::Coro<void> level3() { co_await *gate; }
asyncio::Coro<void> level2() { co_await level3(); }
asyncio::Coro<void> level1() { co_await level2(); }
asyncio::Coro<void> group_child() { co_await *gate; }
asyncio::Coro<void> with_group() {
    asyncio::TaskGroup tg;
    tg.create_task(group_child(), {.name = "group-child"});
    co_await tg.join();
}
asyncio::Coro<void> locked() { auto guard = co_await lock->acquire_scoped(); }
asyncio::Coro<void> gathering() {
    // Named tasks made outside the co_await expression: GCC 12 corrupts a named task made
    // inside it (docs/footguns.md).
    auto deep = asyncio::create_task(level1(), {.name = "deep"});
    auto group = asyncio::create_task(with_group(), {.name = "group"});
    co_await asyncio::gather(deep, group);
}

}  // namespace graphdemo

namespace {
asyncio::AnyTask find_task(const std::string& name) {
    for (auto& t : asyncio::all_tasks())
        if (t.get_name() == name) return t;
    return {};
}
}  // namespace

ASYNCIO_TEST(CallGraph, OfAKnownProgramThroughGatherAndTaskGroup) {
    asyncio::Future<void> gate = loop().create_future<void>();
    asyncio::Lock lock;
    graphdemo::gate = &gate;
    graphdemo::lock = &lock;
    asyncio::current_task().set_name("main");
    co_await lock.acquire();
    auto top = asyncio::create_task(graphdemo::gathering(), {.name = "top"});
    auto parked = asyncio::create_task(graphdemo::locked(), {.name = "parked"});
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);

    asyncio::AnyTask deep = find_task("deep");
    CO_ASSERT_TRUE(deep);
    EXPECT_EQ(asyncio::format_call_graph(deep, {.ids = false}),
              "* Task(name='deep')\n"
              "  + Call stack:\n"
              "  |   async graphdemo::level3()\n"
              "  |   async graphdemo::level2()\n"
              "  |   async graphdemo::level1()\n"
              "  + Awaited by:\n"
              "    * Future()\n"
              "      + Awaited by:\n"
              "        * Task(name='top')\n"
              "          + Call stack:\n"
              "          |   async graphdemo::gathering()");
    // limit: positive keeps the newest frames, negative the oldest, 0 none.
    auto starts = [](const std::string& s, const std::string& prefix) {
        return s.compare(0, prefix.size(), prefix) == 0;
    };
    EXPECT_TRUE(starts(asyncio::format_call_graph(deep, {.limit = 1, .ids = false}),
                       "* Task(name='deep')\n  + Call stack:\n  |   async graphdemo::level3()\n"
                       "  + Awaited by:\n"));
    EXPECT_TRUE(starts(asyncio::format_call_graph(deep, {.limit = -1, .ids = false}),
                       "* Task(name='deep')\n  + Call stack:\n  |   async graphdemo::level1()\n"
                       "  + Awaited by:\n"));
    EXPECT_TRUE(starts(asyncio::format_call_graph(deep, {.limit = 0, .ids = false}),
                       "* Task(name='deep')\n  + Awaited by:\n    * Future()\n"));

    // A TaskGroup's task is awaited by the group's parent task (CPython 3.14).
    asyncio::AnyTask child = find_task("group-child");
    CO_ASSERT_TRUE(child);
    EXPECT_EQ(asyncio::format_call_graph(child, {.ids = false}),
              "* Task(name='group-child')\n"
              "  + Call stack:\n"
              "  |   async graphdemo::group_child()\n"
              "  + Awaited by:\n"
              "    * Task(name='group')\n"
              "      + Call stack:\n"
              "      |   async asyncio::detail::TaskGroupCore::exit()\n"
              "      |   async graphdemo::with_group()\n"
              "      + Awaited by:\n"
              "        * Future()\n"
              "          + Awaited by:\n"
              "            * Task(name='top')\n"
              "              + Call stack:\n"
              "              |   async graphdemo::gathering()");

    // The captured structure, and the ids in the text.
    asyncio::FutureCallGraph g = asyncio::capture_call_graph(deep);
    EXPECT_EQ(g.future.state(), deep.state());
    CO_ASSERT_EQ(g.call_stack.size(), 3u);
    EXPECT_EQ(g.call_stack[0].frame.function, "graphdemo::level3");
    CO_ASSERT_EQ(g.awaited_by.size(), 1u);
    CO_ASSERT_EQ(g.awaited_by[0].awaited_by.size(), 1u);
    EXPECT_EQ(g.awaited_by[0].awaited_by[0].future.state(), top.state());
    std::string with_ids = asyncio::format_call_graph(deep);
    EXPECT_TRUE(
        std::regex_search(with_ids, std::regex("^\\* Task\\(name='deep', id=0x[0-9a-f]+\\)\n")))
        << with_ids;

    // The loop's tree: every task, what it is suspended on, who awaits whom.
    EXPECT_EQ(loop().format_tasks({.ids = false}),
              "6 pending tasks:\n"
              "* Task(name='main') running\n"
              "  + Call stack:\n"
              "  |   async CallGraph_OfAKnownProgramThroughGatherAndTaskGroup_body()\n"
              "* Task(name='top') awaiting <_GatheringFuture pending>\n"
              "  + Call stack:\n"
              "  |   async graphdemo::gathering()\n"
              "  + Awaits:\n"
              "    * Task(name='deep') awaiting <Future pending>\n"
              "      + Call stack:\n"
              "      |   async graphdemo::level3()\n"
              "      |   async graphdemo::level2()\n"
              "      |   async graphdemo::level1()\n"
              "    * Task(name='group') awaiting <Future pending>\n"
              "      + Call stack:\n"
              "      |   async asyncio::detail::TaskGroupCore::exit()\n"
              "      |   async graphdemo::with_group()\n"
              "      + Awaits:\n"
              "        * Task(name='group-child') awaiting <Future pending>\n"
              "          + Call stack:\n"
              "          |   async graphdemo::group_child()\n"
              "* Task(name='parked') waiting in asyncio::Lock::acquire()\n"
              "  + Call stack:\n"
              "  |   async asyncio::Lock::acquire()\n"
              "  |   async asyncio::Lock::acquire_scoped()\n"
              "  |   async graphdemo::locked()");

    gate.set_result();
    lock.release();
    co_await top;
    co_await parked;
}

ASYNCIO_TEST(CallGraph, SleepingTasksShowTheirDeadline) {
    auto t = asyncio::create_task(asyncio::sleep(5), {.name = "sleeper"});
    co_await asyncio::sleep(1);
    std::string s = loop().format_tasks({.ids = false});
    EXPECT_NE(s.find("* Task(name='sleeper') sleeping until loop time 5.000 (in 4.000 s)"),
              std::string::npos)
        << s;
    t.cancel();
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
    }
}

ASYNCIO_TEST(CallGraph, ThroughWaitShieldAndAwaitedTask) {
    auto gate = loop().create_future<void>();
    auto inner = asyncio::create_task(
        [](asyncio::Future<void> g) -> asyncio::Coro<void> { co_await g; }(gate),
        {.name = "inner"});
    auto by_await = asyncio::create_task(
        [](asyncio::Task<void> t) -> asyncio::Coro<void> { co_await t; }(inner),
        {.name = "by-await"});
    auto by_shield = asyncio::create_task(
        [](asyncio::Task<void> t) -> asyncio::Coro<void> { co_await asyncio::shield(t); }(inner),
        {.name = "by-shield"});
    auto by_wait = asyncio::create_task(
        [](asyncio::Task<void> t) -> asyncio::Coro<void> {
            std::vector<asyncio::Task<void>> v{t};
            co_await asyncio::wait(v);
        }(inner),
        {.name = "by-wait"});
    co_await asyncio::sleep(0);
    asyncio::FutureCallGraph g = asyncio::capture_call_graph(inner);
    std::vector<std::string> up;
    for (auto& a : g.awaited_by) {
        if (a.future.state()->is_task()) {
            up.push_back(
                asyncio::AnyTask(a.future.state()->is_task()
                                     ? static_cast<asyncio::detail::TaskCore*>(a.future.state())
                                     : nullptr)
                    .get_name());
        } else {
            CO_ASSERT_EQ(a.awaited_by.size(), 1u);  // the shield's outer, the wait's waiter
            up.push_back("via future: " + asyncio::AnyTask(static_cast<asyncio::detail::TaskCore*>(
                                                               a.awaited_by[0].future.state()))
                                              .get_name());
        }
    }
    EXPECT_EQ(
        up, (std::vector<std::string>{"by-await", "via future: by-shield", "via future: by-wait"}));
    gate.set_result();
    co_await by_await;
    co_await by_shield;
    co_await by_wait;
}

ASYNCIO_TEST(CallGraph, OfTheCurrentTask) {
    auto g = asyncio::capture_call_graph();
    CO_ASSERT_TRUE(g.has_value());
    EXPECT_EQ(g->future.state(), asyncio::current_task().state());
    EXPECT_TRUE(g->awaited_by.empty());
}

TEST(CallGraph, OfTheCurrentTaskOutsideALoopIsAnError) {
    EXPECT_THROW(asyncio::capture_call_graph(), asyncio::RuntimeError);
}

// --- SIGUSR1 in debug mode: a program hung on purpose prints its tasks ---

namespace graphdemo {
asyncio::Coro<void> pass_on(asyncio::Queue<int>& in, asyncio::Queue<int>& out) {
    int v = co_await in.get();  // each waits for the other: nobody ever puts
    co_await out.put(v);
}
asyncio::Coro<void> hung_main() {
    asyncio::Queue<int> a, b;
    asyncio::get_running_loop().call_later(20.0, [] { std::_Exit(3); });  // bound, if never killed
    std::printf("ready\n");
    std::fflush(stdout);
    auto ping = asyncio::create_task(pass_on(a, b), {.name = "ping"});
    auto pong = asyncio::create_task(pass_on(b, a), {.name = "pong"});
    co_await asyncio::gather(ping, pong);
}
}  // namespace graphdemo

// Run by DebugMode.Sigusr1PrintsTheTasksOfAHungProgram in a child process.
TEST(DebugModeChild, DISABLED_HangsUntilKilled) {
    asyncio::run(graphdemo::hung_main(), {.debug = true});
}

namespace {
/// Reads what is available from `fd` into `out` for up to `ms`; false at EOF.
bool read_for(int fd, std::string& out, int ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return true;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    out.append(buf, static_cast<std::size_t>(n));
    return true;
}
}  // namespace

TEST(DebugMode, Sigusr1PrintsTheTasksOfAHungProgram) {
    int out_pipe[2], err_pipe[2];
    ASSERT_EQ(::pipe(out_pipe), 0);
    ASSERT_EQ(::pipe(err_pipe), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
    posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
    posix_spawn_file_actions_addclose(&fa, err_pipe[0]);
    std::string self = "/proc/self/exe";
    std::string filter = "--gtest_filter=DebugModeChild.DISABLED_HangsUntilKilled";
    std::string disabled = "--gtest_also_run_disabled_tests";
    char* argv[] = {self.data(), filter.data(), disabled.data(), nullptr};
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, self.c_str(), &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    ASSERT_EQ(rc, 0);
    std::string out, err;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (out.find("ready\n") == std::string::npos && std::chrono::steady_clock::now() < deadline)
        if (!read_for(out_pipe[0], out, 100)) break;
    // The loop may not be parked yet when "ready" arrives: the dump comes once it is.
    ::kill(pid, SIGUSR1);
    while (err.find("async graphdemo::hung_main()") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        if (!read_for(err_pipe[0], err, 100)) break;
    while (read_for(err_pipe[0], err, 200) && std::chrono::steady_clock::now() < deadline) {
        pollfd p{err_pipe[0], POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) break;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    std::string masked = std::regex_replace(err, std::regex(", id=0x[0-9a-f]+"), "");
    EXPECT_NE(masked.find("pending tasks:\n* Task(name='Task-"), std::string::npos) << masked;
    EXPECT_NE(masked.find("') awaiting <_GatheringFuture pending>\n"
                          "  + Call stack:\n"
                          "  |   async graphdemo::hung_main()\n"
                          "  + Awaits:\n"
                          "    * Task(name='ping') waiting in "),
              std::string::npos)
        << masked;
    EXPECT_NE(masked.find("      |   async graphdemo::pass_on()\n"
                          "    * Task(name='pong') waiting in "),
              std::string::npos)
        << masked;
}
