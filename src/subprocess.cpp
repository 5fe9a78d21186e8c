#include "asyncio/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <system_error>
#include <thread>

#include "asyncio/tasks.hpp"

extern char** environ;

namespace asyncio {

namespace detail {

namespace {

std::atomic<bool> use_pidfd{true};

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return 255;
}

int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

int pidfd_send_signal(int pidfd, int sig) {
#ifdef SYS_pidfd_send_signal
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
#else
    (void)pidfd;
    (void)sig;
    errno = ENOSYS;
    return -1;
#endif
}

/// Closes the fds it holds unless released (the spawn's error paths).
struct FdSet {
    std::vector<int> fds;
    int add(int fd) {
        fds.push_back(fd);
        return fd;
    }
    void forget(int fd) { std::erase(fds, fd); }
    ~FdSet() {
        for (int fd : fds) ::close(fd);
    }
};

}  // namespace

/// One child, watched on its loop. Invariant: returncode is empty until the child has been
/// reaped (by this state's waitpid); after that `pid` may belong to someone else and is
/// never signalled again.
struct ProcessCore : std::enable_shared_from_this<ProcessCore> {
    ProcessCore(EventLoop& l, pid_t p) : loop(&l), pid(p) { l.add_ref(); }
    ProcessCore(const ProcessCore&) = delete;
    ProcessCore& operator=(const ProcessCore&) = delete;

    ~ProcessCore() {
        if (!returncode) {
            // Only reached when the loop drops the watch (loop.close()) before the child
            // exited: like CPython's transport, kill it, and reap it in the background.
            if (pidfd < 0 || pidfd_send_signal(pidfd, SIGKILL) < 0) ::kill(pid, SIGKILL);
            std::thread([p = pid] {
                int st;
                while (::waitpid(p, &st, 0) < 0 && errno == EINTR) {
                }
            }).detach();
        }
        if (pidfd >= 0) ::close(pidfd);
        waiters.clear();
        loop->release();
    }

    /// Reaps the child if it has exited; true when it has.
    bool try_reap() {
        if (returncode) return true;
        int status = 0;
        pid_t r;
        do {
            r = ::waitpid(pid, &status, WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r == 0) return false;
        // ECHILD: someone else reaped it (SIGCHLD ignored, a foreign waitpid(-1)): CPython
        // reports 255 for an unknown child.
        set_exited(r == pid ? decode_status(status) : 255);
        return true;
    }

    void set_exited(int rc) {
        returncode = rc;
        if (pidfd >= 0) {
            loop->remove_reader(pidfd);
            ::close(pidfd);
            pidfd = -1;
        }
        std::vector<Future<int>> ws = std::move(waiters);
        waiters.clear();
        for (auto& w : ws)
            if (!w.done()) w.set_result(rc);
    }

    /// Without a pidfd: poll with waitpid(WNOHANG), backing off from 1 ms to 50 ms.
    void schedule_poll(double delay) {
        loop->call_later(delay, [self = shared_from_this(), delay] {
            if (!self->try_reap()) self->schedule_poll(std::min(delay * 2, 0.05));
        });
    }

    void watch() {
        if (use_pidfd.load(std::memory_order_relaxed)) pidfd = pidfd_open(pid);
        if (pidfd >= 0) {
            loop->add_reader(pidfd, [self = shared_from_this()] { self->try_reap(); });
        } else {
            schedule_poll(0.001);
        }
    }

    void send_signal(int sig) {
        if (returncode)
            throw std::system_error(
                ESRCH, std::generic_category(),
                "send_signal: process " + std::to_string(pid) + " has already exited");
        if (pidfd >= 0) {
            if (pidfd_send_signal(pidfd, sig) == 0) return;
        }
        if (::kill(pid, sig) < 0)
            throw std::system_error(errno, std::generic_category(),
                                    "send_signal to process " + std::to_string(pid));
    }

    EventLoop* loop;
    pid_t pid;
    int pidfd = -1;
    std::optional<int> returncode;
    std::vector<Future<int>> waiters;
};

void set_use_pidfd(bool use) noexcept { use_pidfd.store(use); }

Coro<Process> spawn_process(std::vector<std::string> argv, SubprocessOptions options,
                            const char* caller) {
    EventLoop& loop = get_running_loop();
    if (argv.empty() || argv[0].empty())
        throw std::invalid_argument(std::string(caller) + ": the program name is empty");
    // CPython: ValueError("embedded null byte"); a C string would silently cut it short.
    auto check_nul = [caller](const std::string& s) {
        if (s.find('\0') != std::string::npos)
            throw std::invalid_argument(std::string(caller) + ": embedded null byte");
    };
    for (const auto& a : argv) check_nul(a);
    if (options.env)
        for (const auto& e : *options.env) check_nul(e);
    if (options.cwd) check_nul(*options.cwd);
    if (options.stdin_ == STDOUT || options.stdout_ == STDOUT)
        throw std::invalid_argument(std::string(caller) + ": STDOUT is only valid for stderr_");
    for (auto o : {options.stdin_, options.stdout_, options.stderr_})
        if (o && *o < DEVNULL)
            throw std::invalid_argument(std::string(caller) + ": invalid redirection " +
                                        std::to_string(*o));

    FdSet owned;  // every fd this function opened, until handed over
    int child_fd[3] = {-1, -1, -1};
    int parent_fd[3] = {-1, -1, -1};
    int devnull = -1;
    const std::optional<int>* want[3] = {&options.stdin_, &options.stdout_, &options.stderr_};
    for (int i = 0; i < 3; ++i) {
        const std::optional<int>& w = *want[i];
        if (!w) continue;
        if (*w == PIPE) {
            int p[2];
            if (::pipe2(p, O_CLOEXEC) < 0)
                throw std::system_error(errno, std::system_category(),
                                        std::string(caller) + ": pipe2");
            owned.add(p[0]);
            owned.add(p[1]);
            child_fd[i] = i == 0 ? p[0] : p[1];
            parent_fd[i] = i == 0 ? p[1] : p[0];
        } else if (*w == DEVNULL) {
            if (devnull < 0) {
                devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
                if (devnull < 0)
                    throw std::system_error(errno, std::system_category(),
                                            std::string(caller) + ": open /dev/null");
                owned.add(devnull);
            }
            child_fd[i] = devnull;
        } else if (*w >= 0) {
            child_fd[i] = *w;
        }
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawnattr_init(&attr);
    struct Cleanup {
        posix_spawn_file_actions_t* fa;
        posix_spawnattr_t* attr;
        ~Cleanup() {
            ::posix_spawn_file_actions_destroy(fa);
            ::posix_spawnattr_destroy(attr);
        }
    } cleanup{&fa, &attr};

    for (int i = 0; i < 3; ++i)
        if (child_fd[i] >= 0) ::posix_spawn_file_actions_adddup2(&fa, child_fd[i], i);
    if (options.stderr_ == STDOUT) ::posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (options.close_fds) ::posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (options.cwd) ::posix_spawn_file_actions_addchdir_np(&fa, options.cwd->c_str());

    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (options.start_new_session) flags |= POSIX_SPAWN_SETSID;
    ::posix_spawnattr_setflags(&attr, flags);
    sigset_t none, defaults;
    sigemptyset(&none);
    ::posix_spawnattr_setsigmask(&attr, &none);
    // CPython's restore_signals: what the parent ignores for its own sake goes back to the
    // default in the child (handled signals are reset by exec anyway).
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    ::posix_spawnattr_setsigdefault(&attr, &defaults);

    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    std::vector<char*> cenv;
    char** envp = environ;
    if (options.env) {
        for (auto& e : *options.env) cenv.push_back(e.data());
        cenv.push_back(nullptr);
        envp = cenv.data();
    }

    pid_t pid = -1;
    bool search = argv[0].find('/') == std::string::npos;
    int err = search ? ::posix_spawnp(&pid, argv[0].c_str(), &fa, &attr, cargv.data(), envp)
                     : ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, cargv.data(), envp);
    if (err != 0) {
        // posix_spawn reports a failed chdir like a failed exec: name the culprit (CPython
        // reports the missing cwd, not the program).
        if (options.cwd && ::access(options.cwd->c_str(), X_OK) != 0)
            throw std::system_error(
                errno, std::generic_category(),
                std::string(caller) + ": cannot change to cwd '" + *options.cwd + "'");
        throw std::system_error(err, std::generic_category(),
                                std::string(caller) + ": cannot run '" + argv[0] + "'");
    }

    // The child has its ends; the parent keeps only its own.
    for (int i = 0; i < 3; ++i) {
        if (parent_fd[i] >= 0) {
            owned.forget(child_fd[i]);
            ::close(child_fd[i]);
        }
    }

    auto state = std::make_shared<ProcessCore>(loop, pid);
    Process proc(state);
    try {
        if (parent_fd[0] >= 0) {
            owned.forget(parent_fd[0]);
            proc.stdin_ = make_fd_writer(loop, parent_fd[0], FdTransport::Kind::write_pipe);
        }
        if (parent_fd[1] >= 0) {
            owned.forget(parent_fd[1]);
            proc.stdout_ =
                make_fd_reader(loop, parent_fd[1], FdTransport::Kind::read_pipe, options.limit);
        }
        if (parent_fd[2] >= 0) {
            owned.forget(parent_fd[2]);
            proc.stderr_ =
                make_fd_reader(loop, parent_fd[2], FdTransport::Kind::read_pipe, options.limit);
        }
        state->watch();
    } catch (...) {
        state->try_reap();  // the destructor kills and reaps what is left
        throw;
    }
    co_return proc;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// Process

namespace {

Coro<int> wait_impl(std::shared_ptr<detail::ProcessCore> s) {
    if (s->returncode) co_return *s->returncode;
    Future<int> f = s->loop->create_future<int>();
    std::erase_if(s->waiters, [](const Future<int>& w) { return w.done(); });
    s->waiters.push_back(f);
    co_return co_await f;
}

Coro<void> feed_stdin(StreamWriter w, std::string input) {
    if (!input.empty()) {
        w.write(input);
        try {
            co_await w.drain();
        } catch (const std::system_error& e) {
            // The child closed its stdin early (CPython ignores BrokenPipeError and
            // ConnectionResetError here).
            int c = e.code().value();
            if (c != EPIPE && c != ECONNRESET) throw;
        }
    }
    w.close();
}

Coro<std::string> read_all(StreamReader r) { co_return co_await r.read(); }

Coro<std::pair<std::string, std::string>> communicate_impl(Process p,
                                                           std::shared_ptr<detail::ProcessCore> s,
                                                           std::string input) {
    std::optional<Task<void>> feeder;
    std::optional<Task<std::string>> out_task, err_task;
    if (p.stdin_) feeder = create_task(feed_stdin(p.stdin_, std::move(input)));
    if (p.stdout_) out_task = create_task(read_all(p.stdout_));
    if (p.stderr_) err_task = create_task(read_all(p.stderr_));
    std::pair<std::string, std::string> result;
    std::exception_ptr err;
    try {
        if (feeder) co_await *feeder;
        if (out_task) result.first = co_await *out_task;
        if (err_task) result.second = co_await *err_task;
    } catch (...) {
        err = std::current_exception();
    }
    if (err) {
        // Cancelled, or one part failed: stop the others and let them finish.
        if (feeder) feeder->cancel();
        if (out_task) out_task->cancel();
        if (err_task) err_task->cancel();
        // WORKAROUND(gcc-12): no braced list inside this coroutine (see API.md); a vector.
        std::vector<AnyFuture> parts;
        if (feeder) parts.push_back(*feeder);
        if (out_task) parts.push_back(*out_task);
        if (err_task) parts.push_back(*err_task);
        for (AnyFuture& f : parts) {
            if (f.done()) continue;
            Future<void> done = get_running_loop().create_future<void>();
            detail::add_user_callback<AnyFuture>(f.state(), [done] {
                if (!done.done()) done.set_result();
            });
            try {
                co_await done;
            } catch (...) {
            }
        }
        for (AnyFuture& f : parts)
            if (f.done() && !f.cancelled()) (void)f.exception();  // retrieved
        std::rethrow_exception(err);
    }
    co_await wait_impl(s);
    co_return result;
}

}  // namespace

pid_t Process::pid() const noexcept { return s_ ? s_->pid : -1; }

std::optional<int> Process::returncode() const noexcept {
    return s_ ? s_->returncode : std::nullopt;
}

Coro<int> Process::wait() const {
    if (!s_) throw RuntimeError("wait() on an empty Process");
    return wait_impl(s_);
}

Coro<std::pair<std::string, std::string>> Process::communicate(std::string input) const {
    if (!s_) throw RuntimeError("communicate() on an empty Process");
    return communicate_impl(*this, s_, std::move(input));
}

void Process::send_signal(int sig) const {
    if (!s_) throw RuntimeError("send_signal() on an empty Process");
    s_->send_signal(sig);
}
void Process::terminate() const { send_signal(SIGTERM); }
void Process::kill() const { send_signal(SIGKILL); }

Coro<Process> create_subprocess_exec(SubprocessOptions options, std::vector<std::string> argv) {
    return detail::spawn_process(std::move(argv), std::move(options), "create_subprocess_exec");
}

Coro<Process> create_subprocess_exec(std::vector<std::string> argv) {
    return create_subprocess_exec(SubprocessOptions{}, std::move(argv));
}

Coro<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options) {
    return detail::spawn_process({"/bin/sh", "-c", std::move(cmd)}, std::move(options),
                                 "create_subprocess_shell");
}

}  // namespace asyncio
