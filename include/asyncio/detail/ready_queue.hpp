// The loop's ready queue: a growable ring of (function, object) pairs.
//
// An entry is 16 bytes and allocation-free: a task step is {&step, task}, a user callback is
// {&run_handle, handle}. CPython's iteration rule is kept by the loop, which runs exactly the
// entries present when the iteration starts; entries pushed meanwhile wait for the next one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace asyncio::detail {

/// `run` is true to run the entry, false to dispose of it (closed loop): it must then only
/// release what it owns.
using ReadyFn = void (*)(void* self, bool run);

struct ReadyEntry {
    ReadyFn fn;
    void* self;
};

class ReadyQueue {
public:
    ReadyQueue() = default;
    ReadyQueue(const ReadyQueue&) = delete;
    ReadyQueue& operator=(const ReadyQueue&) = delete;

    bool empty() const noexcept { return head_ == tail_; }
    std::size_t size() const noexcept { return tail_ - head_; }

    void push(ReadyFn fn, void* self) {
        if (tail_ - head_ == cap_) grow();
        buf_[tail_++ & (cap_ - 1)] = ReadyEntry{fn, self};
    }

    ReadyEntry pop() noexcept { return buf_[head_++ & (cap_ - 1)]; }

private:
    void grow() {
        std::size_t ncap = cap_ ? cap_ * 2 : 256;
        std::unique_ptr<ReadyEntry[]> nb(new ReadyEntry[ncap]);
        std::size_t n = tail_ - head_;
        for (std::size_t i = 0; i < n; ++i) nb[i] = buf_[(head_ + i) & (cap_ - 1)];
        buf_ = std::move(nb);
        cap_ = ncap;
        head_ = 0;
        tail_ = n;
    }

    std::unique_ptr<ReadyEntry[]> buf_;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;  // monotonically increasing; index = head_ & (cap_-1)
    std::size_t tail_ = 0;
};

}  // namespace asyncio::detail
