// Task introspection: the chain of suspended frames (Python's base_tasks._task_get_stack and
// _task_print_stack).
#include <cstdio>

#include "asyncio/detail/frames.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio {

namespace detail {

std::vector<FrameInfo> TaskCore::get_stack(std::optional<std::size_t> limit) const {
    std::vector<FrameInfo> out;
    const std::coroutine_handle<> root = this->root();
    if (!root) return out;
    std::vector<std::coroutine_handle<>> chain;  // newest first
    std::coroutine_handle<> h = innermost();
    if (phase_ == Phase::created || phase_ == Phase::running) h = root;
    // Up the continuations to the root; the bound only guards against a corrupt chain.
    for (std::size_t n = 0; h && n < 1'000'000; ++n) {
        chain.push_back(h);
        if (h == root) break;
        h = frame_continuation(h);
    }
    std::size_t keep = limit ? std::min(*limit, chain.size()) : chain.size();
    out.reserve(keep);
    for (std::size_t i = keep; i-- > 0;) {
        FrameInfo f;
        f.function = coroutine_name(chain[i]);
        f.frame = chain[i].address();
        out.push_back(std::move(f));
    }
    return out;
}

}  // namespace detail

void AnyTask::print_stack(std::optional<std::size_t> limit, std::FILE* file) const {
    detail::TaskCore* t = checked_core();
    std::vector<FrameInfo> frames = t->get_stack(limit);
    std::string out;
    if (frames.empty())
        out = "No stack for " + t->repr() + "\n";
    else
        out = "Stack for " + t->repr() + " (most recent call last):\n";
    for (const FrameInfo& f : frames) {
        out += "  ";
        if (!f.file.empty()) out += "File '" + f.file + "', line " + std::to_string(f.line) + ", ";
        out += "in " + f.function + "\n";
    }
    std::fputs(out.c_str(), file ? file : stderr);
}

}  // namespace asyncio
