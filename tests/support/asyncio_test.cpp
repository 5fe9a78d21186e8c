#include "asyncio_test.hpp"

#include <dirent.h>

namespace asyncio::testing {

namespace {
std::vector<Report> g_reports;
EventLoop* g_loop = nullptr;

void collect(EventLoop&, const ExceptionContext& ctx) {
    Report r;
    r.message = ctx.message;
    r.exception = ctx.exception ? describe_exception(ctx.exception) : "";
    r.task = ctx.task ? ctx.task.get_name() : "";
    g_reports.push_back(std::move(r));
}
}  // namespace

std::vector<Report> take_reports() { return std::exchange(g_reports, {}); }

EventLoop& loop() {
    if (!g_loop) throw RuntimeError("no test loop");
    return *g_loop;
}

int open_fd_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

EventLoopPtr make_test_loop(bool real_time) {
    g_reports.clear();
    auto l = new_event_loop(LoopOptions{.virtual_time = !real_time});
    l->set_exception_handler(&collect);
    g_loop = l.get();
    return l;
}

void close_and_check(EventLoopPtr& l, int fds_before) {
    // Let what the test left behind settle (cancel what is pending, as run() does).
    std::vector<AnyTask> left = l->all_tasks();
    EXPECT_TRUE(left.empty()) << left.size() << " task(s) still pending at the end of the test";
    for (auto& t : left) t.cancel();
    for (int i = 0; i < 8 && !l->all_tasks().empty(); ++i) {
        l->stop();
        l->run_forever();
    }
    l->close();
    g_loop = nullptr;
    l.reset();
    for (auto& r : take_reports())
        ADD_FAILURE() << "unexpected report: " << r.message << " [" << r.exception << "] task "
                      << r.task;
    EXPECT_EQ(open_fd_count(), fds_before) << "file descriptors leaked";
}

void run_test(Coro<void> (*body)(), bool real_time) {
    int fds = open_fd_count();
    auto l = make_test_loop(real_time);
    set_event_loop(l.get());
    try {
        l->run_until_complete(body());
    } catch (const std::exception& e) {
        ADD_FAILURE() << "test body threw " << describe_exception(std::current_exception());
    } catch (const CancelledError& e) {
        ADD_FAILURE() << "test body was cancelled: " << e.what();
    }
    set_event_loop(nullptr);
    close_and_check(l, fds);
}

void expect_freed_at_hand_close(Coro<void> (*body)(std::shared_ptr<int> token)) {
    auto token = std::make_shared<int>(0);
    {
        auto loop = new_event_loop();
        loop->set_exception_handler([](EventLoop&, const ExceptionContext&) {});
        loop->run_until_complete(
            [](Coro<void> (*b)(std::shared_ptr<int>), std::shared_ptr<int> tok) -> Coro<void> {
                create_task(b(std::move(tok)));
                co_await sleep(0);
            }(body, token));
        EXPECT_GT(token.use_count(), 1) << "nothing the task made holds the token";
        loop->close();
    }
    EXPECT_EQ(token.use_count(), 1) << "what the abandoned task held must be freed";
}

}  // namespace asyncio::testing
