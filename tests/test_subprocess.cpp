// Subprocesses (CPython test_subprocess's cases, in our words): pipes, communicate, exit
// codes and signals, redirections, errors, and no zombie ever left. Real time.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <asyncio/subprocess.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "asyncio_test.hpp"

using namespace std::chrono_literals;
using asyncio::testing::loop;

namespace {

/// True when `pid` is no child of ours any more (reaped: no zombie left).
bool reaped(pid_t pid) {
    int st;
    return ::waitpid(pid, &st, WNOHANG) < 0 && errno == ECHILD;
}

bool proc_exists(pid_t pid) {
    struct stat sb;
    return ::stat(("/proc/" + std::to_string(pid)).c_str(), &sb) == 0;
}

}  // namespace

// CPython test_subprocess::SubprocessMixin::test_stdin_stdout / test_communicate.
ASYNCIO_TEST_REALTIME(Subprocess, CommunicateFeedsStdinAndCollectsStdout) {
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdin_ = asyncio::PIPE, .stdout_ = asyncio::PIPE}, "cat");
    EXPECT_GT(proc.pid(), 0);
    EXPECT_FALSE(proc.returncode().has_value());
    auto [out, err] = co_await proc.communicate("hello\nworld\n");
    EXPECT_EQ(out, "hello\nworld\n");
    EXPECT_EQ(err, "");
    EXPECT_EQ(proc.returncode(), std::optional<int>(0));
    EXPECT_TRUE(reaped(proc.pid()));
}

ASYNCIO_TEST_REALTIME(Subprocess, SortReadsItsInputAndReversesIt) {
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdin_ = asyncio::PIPE, .stdout_ = asyncio::PIPE, .stderr_ = asyncio::DEVNULL}, "sort",
        "-r");
    auto [out, err] = co_await proc.communicate("b\na\nc\n");
    EXPECT_EQ(out, "c\nb\na\n");
    EXPECT_EQ(co_await proc.wait(), 0);
}

// Megabytes both ways at once: communicate writes and reads concurrently, so a child that
// writes while it reads never deadlocks on full pipes.
ASYNCIO_TEST_REALTIME(Subprocess, EightMegabytesThroughCommunicateWithoutDeadlock) {
    std::string input(8 << 20, '\0');
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>(i * 7 % 251);
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdin_ = asyncio::PIPE, .stdout_ = asyncio::PIPE, .stderr_ = asyncio::PIPE}, "cat");
    auto [out, err] = co_await proc.communicate(input);
    EXPECT_EQ(out.size(), input.size());
    EXPECT_TRUE(out == input);
    EXPECT_EQ(proc.returncode(), std::optional<int>(0));
}

// CPython test_subprocess::SubprocessMixin::test_shell.
ASYNCIO_TEST_REALTIME(Subprocess, ShellExitCodeComesBackFromWait) {
    auto proc = co_await asyncio::create_subprocess_shell("exit 7");
    EXPECT_EQ(co_await proc.wait(), 7);
    EXPECT_EQ(co_await proc.wait(), 7);  // again: the same code at once
    EXPECT_EQ(proc.returncode(), std::optional<int>(7));
}

// CPython test_subprocess::SubprocessMixin::test_kill / test_terminate / test_send_signal.
ASYNCIO_TEST_REALTIME(Subprocess, KilledChildReportsMinusTheSignal) {
    auto proc = co_await asyncio::create_subprocess_exec("sleep", "30");
    proc.kill();
    EXPECT_EQ(co_await proc.wait(), -SIGKILL);
    auto proc2 = co_await asyncio::create_subprocess_exec("sleep", "30");
    proc2.terminate();
    EXPECT_EQ(co_await proc2.wait(), -SIGTERM);
    auto proc3 = co_await asyncio::create_subprocess_exec("sleep", "30");
    proc3.send_signal(SIGHUP);
    EXPECT_EQ(co_await proc3.wait(), -SIGHUP);
    bool raised = false;
    try {
        proc3.send_signal(SIGTERM);  // exited: ProcessLookupError
    } catch (const std::system_error& e) {
        raised = e.code().value() == ESRCH;
    }
    EXPECT_TRUE(raised);
}

// The child gets SIGPIPE back at its default action (the parent ignores it).
ASYNCIO_TEST_REALTIME(Subprocess, ChildHasDefaultSigpipe) {
    auto proc = co_await asyncio::create_subprocess_shell("grep SigIgn /proc/self/status",
                                                          {.stdout_ = asyncio::PIPE});
    auto [out, err] = co_await proc.communicate();
    // SIGPIPE is signal 13: bit 12 of the ignored mask must be clear.
    auto hex = out.substr(out.find(':') + 1);
    unsigned long long mask = std::stoull(hex, nullptr, 16);
    EXPECT_EQ(mask & (1ull << (SIGPIPE - 1)), 0ull) << out;
}

// CPython test_subprocess::SubprocessMixin::test_stdin_broken_pipe.
ASYNCIO_TEST_REALTIME(Subprocess, AChildThatIgnoresItsStdinIsNotAnError) {
    auto proc = co_await asyncio::create_subprocess_exec({.stdin_ = asyncio::PIPE}, "true");
    auto [out, err] = co_await proc.communicate(std::string(4 << 20, 'x'));
    EXPECT_EQ(proc.returncode(), std::optional<int>(0));
}

ASYNCIO_TEST_REALTIME(Subprocess, StderrToStdoutAndDevnull) {
    auto p1 = co_await asyncio::create_subprocess_shell(
        "echo out; echo err 1>&2", {.stdout_ = asyncio::PIPE, .stderr_ = asyncio::STDOUT});
    auto [o1, e1] = co_await p1.communicate();
    EXPECT_EQ(o1, "out\nerr\n");
    EXPECT_EQ(e1, "");
    auto p2 = co_await asyncio::create_subprocess_shell(
        "echo out; echo err 1>&2", {.stdout_ = asyncio::DEVNULL, .stderr_ = asyncio::PIPE});
    EXPECT_FALSE(p2.stdout_);
    auto [o2, e2] = co_await p2.communicate();
    EXPECT_EQ(o2, "");
    EXPECT_EQ(e2, "err\n");
}

ASYNCIO_TEST_REALTIME(Subprocess, ReadlineFromStdoutUntilEof) {
    auto proc = co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, "printf",
                                                         "a\\nbb\\nccc");
    std::vector<std::string> lines;
    for (;;) {
        std::string line = co_await proc.stdout_.readline();
        if (line.empty()) break;
        lines.push_back(line);
    }
    EXPECT_EQ(lines, (std::vector<std::string>{"a\n", "bb\n", "ccc"}));
    EXPECT_EQ(co_await proc.wait(), 0);
}

ASYNCIO_TEST_REALTIME(Subprocess, ArgvVectorEnvCwdAndAnFdForStdout) {
    std::string path = "/tmp/asyncio_subprocess_XXXXXX";
    int fd = ::mkstemp(path.data());
    // WORKAROUND(gcc-12): braced lists of string literals are built outside the co_await.
    std::vector<std::string> argv{"/bin/sh", "-c", "echo $FOO; pwd"};
    // WORKAROUND(gcc-12): an aggregate temporary with non-trivial members (strings) in a
    // co_await expression is destroyed twice; such options are built first.
    asyncio::SubprocessOptions options{
        .stdout_ = fd, .cwd = "/tmp", .env = std::vector<std::string>{"FOO=bar"}};
    auto proc = co_await asyncio::create_subprocess_exec(options, argv);
    EXPECT_EQ(co_await proc.wait(), 0);
    ::close(fd);
    std::ifstream in(path);
    std::string a, b;
    std::getline(in, a);
    std::getline(in, b);
    EXPECT_EQ(a, "bar");
    EXPECT_EQ(b, "/tmp");
    ::unlink(path.c_str());
}

ASYNCIO_TEST_REALTIME(Subprocess, StartNewSessionMakesTheChildASessionLeader) {
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdout_ = asyncio::PIPE, .start_new_session = true}, "sh", "-c",
        "ps -o sid= -p $$ 2>/dev/null || cut -d' ' -f6 /proc/$$/stat");
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(std::stoi(out), proc.pid());
}

ASYNCIO_TEST_REALTIME(Subprocess, AMissingProgramRaisesAnErrorNamingIt) {
    std::string what;
    int code = 0;
    try {
        co_await asyncio::create_subprocess_exec("no-such-program-xyz", "arg");
    } catch (const std::system_error& e) {
        what = e.what();
        code = e.code().value();
    }
    EXPECT_EQ(code, ENOENT);
    EXPECT_NE(what.find("'no-such-program-xyz'"), std::string::npos) << what;
    EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
    bool invalid = false;
    try {
        co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::STDOUT}, "true");
    } catch (const std::invalid_argument&) {
        invalid = true;
    }
    EXPECT_TRUE(invalid);
}

// CPython test_subprocess::SubprocessMixin::test_cancel_process_wait.
ASYNCIO_TEST_REALTIME(Subprocess, CancellingWaitLeavesTheChildWatched) {
    auto proc = co_await asyncio::create_subprocess_exec("sleep", "0.1");
    auto w = asyncio::create_task(proc.wait());
    co_await asyncio::sleep(0.01);
    w.cancel();
    bool cancelled = false;
    try {
        co_await w;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(co_await proc.wait(), 0);
    EXPECT_TRUE(reaped(proc.pid()));
}

ASYNCIO_TEST_REALTIME(Subprocess, CancellingCommunicateStopsItsHelpers) {
    auto proc = co_await asyncio::create_subprocess_exec(
        {.stdin_ = asyncio::PIPE, .stdout_ = asyncio::PIPE}, "sleep", "30");
    auto c = asyncio::create_task(proc.communicate("x"));
    co_await asyncio::sleep(0.02);
    c.cancel();
    bool cancelled = false;
    try {
        co_await c;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    proc.kill();
    EXPECT_EQ(co_await proc.wait(), -SIGKILL);
}

// No zombie: a Process dropped while its child runs is still reaped when the child exits.
ASYNCIO_TEST_REALTIME(Subprocess, ADroppedProcessIsStillReaped) {
    pid_t pid;
    {
        auto proc = co_await asyncio::create_subprocess_exec("sleep", "0.05");
        pid = proc.pid();
    }
    for (int i = 0; i < 200 && !reaped(pid); ++i) co_await asyncio::sleep(0.01);
    EXPECT_TRUE(reaped(pid));
    EXPECT_FALSE(proc_exists(pid));
}

ASYNCIO_TEST_REALTIME(Subprocess, WithoutPidfdTheChildIsPolledAndReaped) {
    asyncio::detail::set_use_pidfd(false);
    auto proc = co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, "echo", "hi");
    asyncio::detail::set_use_pidfd(true);
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(out, "hi\n");
    EXPECT_EQ(proc.returncode(), std::optional<int>(0));
    EXPECT_TRUE(reaped(proc.pid()));
    asyncio::detail::set_use_pidfd(false);
    auto slow = co_await asyncio::create_subprocess_exec("sleep", "0.1");
    asyncio::detail::set_use_pidfd(true);
    EXPECT_EQ(co_await slow.wait(), 0);
}

// A loop closed while its child runs kills the child and reaps it in the background.
TEST(Subprocess, ClosingTheLoopKillsAndReapsARunningChild) {
    auto l = asyncio::new_event_loop();
    pid_t pid = l->run_until_complete([]() -> asyncio::Coro<pid_t> {
        auto proc = co_await asyncio::create_subprocess_exec("sleep", "30");
        co_return proc.pid();
    }());
    l->close();
    for (int i = 0; i < 500 && proc_exists(pid); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(proc_exists(pid));
}

// CPython: Popen(["pwd"], cwd="/nonexistent") raises FileNotFoundError naming the directory,
// not the program.
ASYNCIO_TEST_REALTIME(Subprocess, AMissingCwdIsReportedAsTheCwdNotAsTheProgram) {
    std::vector<std::string> argv{"/bin/true"};
    asyncio::SubprocessOptions options{.cwd = "/nonexistent-dir-xyz"};
    std::string what;
    try {
        co_await asyncio::create_subprocess_exec(options, argv);
    } catch (const std::system_error& e) {
        what = e.what();
        EXPECT_EQ(e.code().value(), ENOENT);
    }
    EXPECT_NE(what.find("/nonexistent-dir-xyz"), std::string::npos) << what;
    EXPECT_EQ(what.find("cannot run"), std::string::npos) << what;
}

// CPython: an argument with "\0" inside raises ValueError("embedded null byte") instead of
// being cut short at the NUL.
ASYNCIO_TEST_REALTIME(Subprocess, ANulByteInAnArgumentIsAnError) {
    std::vector<std::string> argv{"/bin/echo", std::string("a\0b", 3)};
    std::string what;
    int fds = asyncio::testing::open_fd_count();
    try {
        co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, argv);
    } catch (const std::invalid_argument& e) {
        what = e.what();
    }
    EXPECT_NE(what.find("embedded null byte"), std::string::npos) << what;
    EXPECT_EQ(asyncio::testing::open_fd_count(), fds);
}
