// The soak: timers, cross-thread posts, executor calls, subprocesses and cancellations mixed
// for a fixed time, round after round of asyncio::run(). It checks that no callback is lost
// (every scheduled, posted or submitted piece of work is accounted for) and that memory and
// file descriptors stay flat (resident memory at the end against the level reached after a
// warm-up quarter). Not part of `make test`: `make soak` runs it, with and without ASan.
//
//   asyncio_soak [seconds]   (default 60)
#include <dirent.h>
#include <unistd.h>

#include <asyncio/asyncio.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

double rss_mib() {
    std::ifstream in("/proc/self/statm");
    long pages = 0, resident = 0;
    in >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) /
           (1024.0 * 1024.0);
}

int open_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

struct Totals {
    long timers_scheduled = 0, timers_fired = 0, timers_cancelled = 0;
    long posts_sent = 0;
    std::atomic<long> posts_run{0};
    long executor_calls = 0, executor_results = 0;
    long subprocesses = 0, subprocess_ok = 0;
    long tasks_cancelled = 0, cancels_seen = 0;
    long rounds = 0;
};

asyncio::Coro<void> sleeper(double d) { co_await asyncio::sleep(d); }

asyncio::Coro<void> one_round(Totals& t, std::mt19937& rng) {
    auto& loop = asyncio::get_running_loop();

    // Timers: some cancelled before they fire; the rest must all fire.
    std::vector<asyncio::TimerHandle> handles;
    long fired = 0, expected = 0;
    for (int i = 0; i < 2000; ++i) {
        double d = static_cast<double>(rng() % 20) * 0.0005;
        handles.push_back(loop.call_later(d, [&fired] { ++fired; }));
        ++t.timers_scheduled;
    }
    for (std::size_t i = 0; i < handles.size(); ++i) {
        if (i % 3 == 0) {
            handles[i].cancel();
            ++t.timers_cancelled;
        } else {
            ++expected;
        }
    }

    // Cross-thread posts from two threads, at most a few hundred in flight.
    std::atomic<long> posted_here{0};
    const long run_before = t.posts_run.load();
    const auto give_up = Clock::now() + 60s;
    constexpr long posts_per_thread = 5000;
    std::vector<std::thread> posters;
    for (int p = 0; p < 2; ++p) {
        posters.emplace_back([&] {
            for (long i = 0; i < posts_per_thread; ++i) {
                while (posted_here.load() - (t.posts_run.load() - run_before) > 500) {
                    if (Clock::now() > give_up) return;  // posts lost: the totals will say
                    std::this_thread::yield();
                }
                posted_here.fetch_add(1);
                loop.call_soon_threadsafe([&t] { t.posts_run.fetch_add(1); });
            }
        });
    }

    // Executor calls, some of them throwing.
    long results = 0;
    for (int i = 0; i < 200; ++i) {
        ++t.executor_calls;
        try {
            int v = co_await asyncio::to_thread([i] {
                if (i % 10 == 0) throw std::runtime_error("job failed");
                return i;
            });
            if (v == i) ++results;
        } catch (const std::runtime_error&) {
            ++results;
        }
    }
    t.executor_results += results;

    // Subprocesses.
    for (int i = 0; i < 3; ++i) {
        ++t.subprocesses;
        auto proc = co_await asyncio::create_subprocess_exec({.stdout_ = asyncio::PIPE}, "/bin/sh",
                                                             "-c", "echo soak");
        auto [out, err] = co_await proc.communicate();
        if (co_await proc.wait() == 0 && out == "soak\n") ++t.subprocess_ok;
    }

    // Cancellations: sleeping tasks cancelled mid-sleep.
    std::vector<asyncio::Task<void>> tasks;
    for (int i = 0; i < 500; ++i) tasks.push_back(asyncio::create_task(sleeper(10)));
    co_await asyncio::sleep(0);
    for (auto& task : tasks) {
        task.cancel();
        ++t.tasks_cancelled;
    }
    for (auto& task : tasks) {
        try {
            co_await task;
        } catch (const asyncio::CancelledError&) {
            ++t.cancels_seen;
        }
    }

    co_await asyncio::sleep(0.02);  // every timer is due by now
    // Every post runs (the posters wait for the loop, so the loop must not block on them).
    while (t.posts_run.load() - run_before < 2 * posts_per_thread && Clock::now() < give_up)
        co_await asyncio::sleep(0.001);
    for (auto& th : posters) th.join();
    t.posts_sent += 2 * posts_per_thread;
    t.timers_fired += fired;
    if (fired != expected) {
        std::fprintf(stderr, "soak: %ld of %ld timers fired\n", fired, expected);
        std::exit(1);
    }
    ++t.rounds;
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = argc > 1 ? std::atof(argv[1]) : 60.0;
    Totals t;
    std::mt19937 rng(12345);
    auto start = Clock::now();
    auto until = start + std::chrono::duration<double>(seconds);
    auto warm = start + std::chrono::duration<double>(seconds / 4);
    double rss_warm = 0, rss_peak = 0;
    int fds_warm = -1;
    while (Clock::now() < until) {
        asyncio::run(one_round(t, rng));
        double r = rss_mib();
        if (r > rss_peak) rss_peak = r;
        if (fds_warm < 0 && Clock::now() >= warm) {
            rss_warm = r;
            fds_warm = open_fds();
        }
    }
    double rss_end = rss_mib();
    int fds_end = open_fds();
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf(
        "soak%s: %.0f s, %ld rounds: %ld timers (%ld fired, %ld cancelled), %ld cross-thread "
        "posts (%ld run), %ld executor calls (%ld results), %ld subprocesses (%ld ok), %ld "
        "cancelled tasks (%ld CancelledError seen)\n"
        "soak%s: RSS after warm-up %.1f MiB, at the end %.1f MiB, peak %.1f MiB; fds %d -> %d\n",
        sanitized ? " (ASan)" : "", elapsed, t.rounds, t.timers_scheduled, t.timers_fired,
        t.timers_cancelled, t.posts_sent, t.posts_run.load(), t.executor_calls, t.executor_results,
        t.subprocesses, t.subprocess_ok, t.tasks_cancelled, t.cancels_seen,
        sanitized ? " (ASan)" : "", rss_warm, rss_end, rss_peak, fds_warm, fds_end);
    bool ok = true;
    auto check = [&ok](bool c, const char* what) {
        if (!c) {
            std::fprintf(stderr, "soak: FAILED: %s\n", what);
            ok = false;
        }
    };
    check(t.rounds > 0, "at least one round");
    check(t.timers_fired == t.timers_scheduled - t.timers_cancelled, "every timer fired");
    check(t.posts_run.load() == t.posts_sent, "every cross-thread post ran");
    check(t.executor_results == t.executor_calls, "every executor call answered");
    check(t.subprocess_ok == t.subprocesses, "every subprocess ran");
    check(t.cancels_seen == t.tasks_cancelled, "every cancellation delivered");
    check(fds_end == fds_warm, "file descriptors flat");
    // Flat memory: what the warm-up quarter reached, plus a margin for allocator noise (ASan's
    // quarantine is bounded by ASAN_OPTIONS in `make soak`).
    double margin = sanitized ? 24.0 : 8.0;
    check(rss_end <= rss_warm + margin, "resident memory flat after the warm-up");
    return ok ? 0 : 1;
}
