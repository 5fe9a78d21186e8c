// The async call graph and the loop's task tree (asyncio/graph.hpp), read from the live state.
#include "asyncio/graph.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>

#include "asyncio/detail/frames.hpp"
#include "asyncio/detail/gather.hpp"
#include "asyncio/detail/taskgroup.hpp"
#include "asyncio/detail/wait.hpp"
#include "asyncio/shield.hpp"

namespace asyncio {

namespace {

using detail::FutureBase;
using detail::ReadyEntry;
using detail::TaskCore;

// Deeper graphs are cut (a chain of awaits through futures is finite, but a cycle through a
// gather is possible: see TaskCore::cancel).
constexpr std::size_t max_depth = 256;

/// The futures and tasks waiting for `f`, found from its done callbacks, in the order they
/// started waiting, each once.
std::vector<FutureBase*> awaiters(const FutureBase* f) {
    std::vector<FutureBase*> out;
    f->for_each_callback([&](ReadyEntry e) {
        FutureBase* a = nullptr;
        if (TaskCore::is_wakeup(e.fn))
            a = static_cast<TaskCore*>(e.self);
        else if (FutureBase* g = detail::GatherCore::awaiter_of(e))
            a = g;
        else if (FutureBase* p = detail::TaskGroupCore::awaiter_of(e))
            a = p;
        else if (FutureBase* w = detail::WaitCore::awaiter_of(e))
            a = w;
        else
            a = detail::ShieldLink::awaiter_of(e);
        if (a && a != f && std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    });
    return out;
}

/// The task's frames, newest first, trimmed by `limit` (positive: the newest).
std::vector<FrameCallGraphEntry> call_stack(const FutureBase* f, std::optional<int> limit) {
    std::vector<FrameCallGraphEntry> out;
    if (!f->is_task() || (limit && *limit == 0)) return out;
    std::vector<FrameInfo> frames = static_cast<const TaskCore*>(f)->get_stack(std::nullopt);
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) out.push_back({std::move(*it)});
    if (limit) {
        std::size_t n = static_cast<std::size_t>(*limit < 0 ? -*limit : *limit);
        if (out.size() > n) {
            if (*limit > 0)
                out.resize(n);
            else
                out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(n));
        }
    }
    return out;
}

FutureCallGraph build(FutureBase* f, const CallGraphOptions& o, std::vector<FutureBase*>& path) {
    FutureCallGraph g;
    g.future = AnyFuture(f);
    g.call_stack = call_stack(f, o.limit);
    if (path.size() >= max_depth) return g;
    path.push_back(f);
    for (FutureBase* a : awaiters(f))
        if (std::find(path.begin(), path.end(), a) == path.end())
            g.awaited_by.push_back(build(a, o, path));
    path.pop_back();
    return g;
}

std::string id_of(const void* p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%#lx",
                  static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(p)));
    return buf;
}

std::string header(const FutureBase* f, bool ids) {
    if (f->is_task())
        return "* Task(name='" + static_cast<const TaskCore*>(f)->get_name() + "'" +
               (ids ? ", id=" + id_of(f) : "") + ")";
    return ids ? "* Future(id=" + id_of(f) + ")" : "* Future()";
}

std::string frame_line(const FrameInfo& fr) {
    std::string s = "  |   ";
    if (!fr.file.empty()) s += "File '" + fr.file + "', line " + std::to_string(fr.line) + ", in ";
    return s + "async " + fr.function + "()";
}

void render(const FutureCallGraph& g, std::string& buf, std::size_t level, bool ids) {
    const std::string indent(level * 4, ' ');
    auto add = [&](const std::string& line) { buf += indent + line + "\n"; };
    add(header(g.future.state(), ids));
    if (!g.call_stack.empty()) {
        add("  + Call stack:");
        for (const auto& e : g.call_stack) add(frame_line(e.frame));
    }
    if (!g.awaited_by.empty()) {
        add("  + Awaited by:");
        for (const auto& a : g.awaited_by) render(a, buf, level + 1, ids);
    }
}

// --- the loop's tree ---

/// The tasks waiting for `f`, through the futures in between (a gather, a wait, a shield).
void awaiting_tasks(FutureBase* f, std::vector<TaskCore*>& out, std::size_t depth) {
    if (depth >= max_depth) return;
    for (FutureBase* a : awaiters(f)) {
        if (a->is_task()) {
            auto* t = static_cast<TaskCore*>(a);
            if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
        } else {
            awaiting_tasks(a, out, depth + 1);
        }
    }
}

std::string seconds(double s) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3f", s);
    return buf;
}

/// What the task is suspended on, in words.
std::string suspended_on(const TaskCore* t, double now) {
    switch (t->phase()) {
        case TaskCore::Phase::created: return "not started yet (its first step is scheduled)";
        case TaskCore::Phase::scheduled: return "scheduled to resume";
        case TaskCore::Phase::running: return "running";
        case TaskCore::Phase::awaiting_future: return "awaiting " + t->waiting_on()->repr();
        case TaskCore::Phase::sleeping: {
            double when = static_cast<double>(t->sleep_deadline_ns()) * 1e-9;
            return "sleeping until loop time " + seconds(when) + " (in " + seconds(when - now) +
                   " s)";
        }
        case TaskCore::Phase::parked:
            // A lock's, condition's, queue's ... waiter: its coroutine names it.
            return "waiting in " + detail::coroutine_name(t->innermost()) + "()";
        case TaskCore::Phase::done: return "done";
    }
    return "?";
}

}  // namespace

FutureCallGraph capture_call_graph(const AnyFuture& future, CallGraphOptions options) {
    std::vector<FutureBase*> path;
    return build(future.state(), options, path);
}

std::optional<FutureCallGraph> capture_call_graph(CallGraphOptions options) {
    get_running_loop();  // RuntimeError without one
    AnyTask t = current_task();
    if (!t) return std::nullopt;
    return capture_call_graph(t, options);
}

std::string format_call_graph(const FutureCallGraph& graph, bool ids) {
    std::string buf;
    render(graph, buf, 0, ids);
    if (!buf.empty()) buf.pop_back();  // Python joins the lines with "\n"
    return buf;
}

std::string format_call_graph(const AnyFuture& future, CallGraphOptions options) {
    return format_call_graph(capture_call_graph(future, options), options.ids);
}

void print_call_graph(const AnyFuture& future, std::FILE* file, CallGraphOptions options) {
    std::string s = format_call_graph(future, options) + "\n";
    std::fputs(s.c_str(), file ? file : stdout);
}

std::string EventLoop::format_tasks(CallGraphOptions options) const {
    std::vector<AnyTask> tasks = all_tasks();  // creation order
    std::vector<TaskCore*> cores;
    for (auto& t : tasks) cores.push_back(t.core());
    // parents[i]: the tasks awaiting task i.
    std::vector<std::vector<TaskCore*>> parents(cores.size());
    for (std::size_t i = 0; i < cores.size(); ++i) awaiting_tasks(cores[i], parents[i], 0);
    auto index_of = [&](const TaskCore* t) {
        return static_cast<std::size_t>(std::find(cores.begin(), cores.end(), t) - cores.begin());
    };
    const double now = time();
    std::string buf =
        std::to_string(cores.size()) + " pending task" + (cores.size() == 1 ? "" : "s") + ":\n";
    std::vector<std::size_t> path;
    std::vector<bool> shown(cores.size(), false);
    // A task, then (indented) the tasks it awaits.
    auto node = [&](auto& self, std::size_t i, std::size_t level) -> void {
        const std::string indent(level * 4, ' ');
        const TaskCore* t = cores[i];
        shown[i] = true;
        buf += indent + header(t, options.ids) + " " + suspended_on(t, now) + "\n";
        std::vector<FrameCallGraphEntry> st = call_stack(t, options.limit);
        if (!st.empty()) {
            buf += indent + "  + Call stack:\n";
            for (const auto& e : st) buf += indent + frame_line(e.frame) + "\n";
        }
        if (path.size() >= max_depth) return;
        std::vector<std::size_t> kids;
        for (std::size_t k = 0; k < cores.size(); ++k)
            if (std::find(parents[k].begin(), parents[k].end(), t) != parents[k].end() &&
                std::find(path.begin(), path.end(), k) == path.end() && k != i)
                kids.push_back(k);
        if (kids.empty()) return;
        buf += indent + "  + Awaits:\n";
        path.push_back(i);
        for (std::size_t k : kids) self(self, k, level + 1);
        path.pop_back();
    };
    for (std::size_t i = 0; i < cores.size(); ++i) {
        bool root = true;
        for (TaskCore* p : parents[i])
            if (index_of(p) < cores.size()) root = false;
        if (root) node(node, i, 0);
    }
    // Tasks only awaited through a cycle have no root: show them too.
    for (std::size_t i = 0; i < cores.size(); ++i)
        if (!shown[i]) node(node, i, 0);
    if (!buf.empty()) buf.pop_back();
    return buf;
}

void EventLoop::print_tasks(std::FILE* file, CallGraphOptions options) const {
    std::string s = format_tasks(options) + "\n";
    std::fputs(s.c_str(), file ? file : stderr);
    std::fflush(file ? file : stderr);
}

}  // namespace asyncio

namespace asyncio {

void EventLoop::install_debug_dump() noexcept {
    // The program's own SIGUSR1 handler (on this loop) wins; so does another loop's.
    if (signal_handlers_.count(SIGUSR1)) return;
    try {
        add_signal_handler(SIGUSR1, [this] { print_tasks(stderr); });
    } catch (...) {
        return;
    }
    debug_dump_ = signal_handlers_[SIGUSR1];
    debug_dump_->add_ref();  // so that its address is not reused while it is compared
}

void EventLoop::remove_debug_dump() noexcept {
    auto it = signal_handlers_.find(SIGUSR1);
    if (it != signal_handlers_.end() && it->second == debug_dump_) {
        try {
            remove_signal_handler(SIGUSR1);
        } catch (...) {
        }
    }
    debug_dump_->release();
    debug_dump_ = nullptr;
}

}  // namespace asyncio
