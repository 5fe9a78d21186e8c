// Subprocesses: create_subprocess_exec / create_subprocess_shell and Process.
//
// The child is started with posix_spawn (its standard streams redirected as asked, every
// other fd closed, SIGPIPE back to its default action) and watched through a pidfd on the
// loop; where the kernel has no pidfd_open, the loop polls waitpid(WNOHANG) on a timer that
// backs off from 1 ms to 50 ms. Either way the child is always reaped: no zombie is left,
// even when the Process is dropped early or the loop is closed first (the child is then
// killed, as CPython's transport does, and reaped by a short-lived thread). Pipes are
// StreamReader / StreamWriter over the loop.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/events.hpp"
#include "asyncio/streams.hpp"

namespace asyncio {

/// Redirections (Python: subprocess.PIPE, STDOUT, DEVNULL). Any other value ≥ 0 is a file
/// descriptor the child gets as that stream; leaving the option empty inherits the parent's.
inline constexpr int PIPE = -1;
inline constexpr int STDOUT = -2;  ///< stderr_ only: the same as stdout
inline constexpr int DEVNULL = -3;

namespace subprocess {
using asyncio::DEVNULL;
using asyncio::PIPE;
using asyncio::STDOUT;
}  // namespace subprocess

/// Keyword arguments of create_subprocess_exec / create_subprocess_shell.
///
/// WORKAROUND(gcc-12): `co_await create_subprocess_exec({.stdout_ = PIPE}, ...)` is fine,
/// but a braced options temporary that sets `cwd` or `env` (members with destructors) inside
/// a co_await expression is destroyed twice by GCC 12: declare such options as a variable
/// first (`SubprocessOptions opts{.cwd = "/tmp"}; co_await create_subprocess_exec(opts, ...)`).
struct SubprocessOptions {
    std::optional<int> stdin_{};               ///< PIPE, DEVNULL or an fd; empty: inherit
    std::optional<int> stdout_{};              ///< PIPE, DEVNULL or an fd; empty: inherit
    std::optional<int> stderr_{};              ///< PIPE, DEVNULL, STDOUT or an fd; empty: inherit
    std::size_t limit = default_stream_limit;  ///< the StreamReaders' limit
    std::optional<std::string> cwd{};          ///< the child's working directory
    /// The child's environment as "NAME=value" strings; empty: the parent's.
    std::optional<std::vector<std::string>> env{};
    bool start_new_session = false;  ///< setsid() in the child
    bool close_fds = true;           ///< close every fd but 0, 1 and 2 in the child
};

namespace detail {
struct ProcessCore;
}

/// A running (or finished) child process. Python: asyncio.subprocess.Process.
///
/// A copyable handle. stdin_ / stdout_ / stderr_ are the pipes opened with PIPE, empty
/// handles otherwise (`if (proc.stdout_)`).
/// Cancellation: cancelling wait() or communicate() leaves the child running (and watched:
/// it is reaped when it exits); communicate() cancels its own reading and writing.
class Process {
  public:
    Process() = default;

    /// The child's process id.
    pid_t pid() const noexcept;
    /// The exit status once the exit was seen: the exit code, or -N when signal N killed
    /// it; empty while running. Python: returncode.
    std::optional<int> returncode() const noexcept;
    /// Waits for the child to exit and gives returncode(). Python: wait().
    /// Note: with stdout_=PIPE and a child that writes a lot, read the pipe too (or use
    /// communicate()), or the child blocks on a full pipe and never exits.
    Coro<int> wait() const;
    /// Writes `input` to stdin_ (if it is a pipe) and closes it, reads stdout_ and stderr_
    /// (those that are pipes) to EOF, all at once, then waits for the exit. Gives {out, err}
    /// ("" for a stream that is not a pipe). Python: communicate(input=None).
    /// Errors: a child that stops reading its stdin early is not an error (EPIPE ignored).
    Coro<std::pair<std::string, std::string>> communicate(std::string input = {}) const;
    /// Sends signal `sig`. Errors: std::system_error(ESRCH) once the exit was seen
    /// (Python: ProcessLookupError).
    void send_signal(int sig) const;
    void terminate() const;  ///< SIGTERM
    void kill() const;       ///< SIGKILL

    StreamWriter stdin_;
    StreamReader stdout_{nullptr};
    StreamReader stderr_{nullptr};

    explicit Process(std::shared_ptr<detail::ProcessCore> s) noexcept : s_(std::move(s)) {}

  private:
    std::shared_ptr<detail::ProcessCore> s_;
};

namespace detail {
Coro<Process> spawn_process(std::vector<std::string> argv, SubprocessOptions options,
                            const char* caller);
/// Test hook: false makes new children be watched by a waitpid() thread, not a pidfd.
void set_use_pidfd(bool use) noexcept;

template <class... A>
inline constexpr bool all_strings_v = (std::is_convertible_v<const A&, std::string_view> && ...);
}  // namespace detail

/// Starts `program` with `args` (searched in PATH when it has no '/').
/// Python: asyncio.create_subprocess_exec(program, *args, stdin=..., stdout=..., ...).
/// Errors: std::system_error (ENOENT: "No such file or directory", EACCES, ...) naming the
/// program when it cannot be started; RuntimeError outside a running loop.
template <class... A>
requires detail::all_strings_v<A...> Coro<Process> create_subprocess_exec(SubprocessOptions options,
                                                                          std::string_view program,
                                                                          const A&... args) {
    return detail::spawn_process({std::string(program), std::string(std::string_view(args))...},
                                 std::move(options), "create_subprocess_exec");
}
template <class... A>
requires detail::all_strings_v<A...> Coro<Process> create_subprocess_exec(std::string_view program,
                                                                          const A&... args) {
    return create_subprocess_exec(SubprocessOptions{}, program, args...);
}
/// The argv form: argv[0] is the program.
Coro<Process> create_subprocess_exec(SubprocessOptions options, std::vector<std::string> argv);
Coro<Process> create_subprocess_exec(std::vector<std::string> argv);

/// Runs `cmd` with /bin/sh -c. Python: asyncio.create_subprocess_shell(cmd, ...).
Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options = {});

}  // namespace asyncio
