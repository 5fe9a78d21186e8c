// The loop's ready queue: a growable ring of (function, object) pairs.
//
// An entry is 16 bytes and allocation-free: a task step is {&step, task} (chained through the
// task itself when steps come one after another), a user callback is {&HandleCore::run_thunk,
// handle}. CPython's iteration rule is kept by the loop, which runs exactly the entries present
// when the iteration starts; entries pushed meanwhile wait for the next one.
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

/// An intrusive node for push_linked(): lives in the scheduled object itself (a task keeps
/// one in storage it does not use while a step is scheduled). Its entry runs with the link
/// itself as `self`: the owner finds itself from the link's place in it (one word, not two:
/// a task's union keeps its queued done callback beside it, see TaskCore).
struct ReadyLink {
    ReadyLink* next;
};

/// FIFO of entries. push_linked() entries with the same function pushed one after another
/// share one ring slot, chained through their links (a run): a million task steps scheduled
/// together take one slot, not 16 MB. size() counts entries, not slots.
class ReadyQueue {
  public:
    ReadyQueue() = default;
    ReadyQueue(const ReadyQueue&) = delete;
    ReadyQueue& operator=(const ReadyQueue&) = delete;

    bool empty() const noexcept { return count_ == 0; }
    std::size_t size() const noexcept { return count_; }
    /// Ring slots in use (a run takes one).
    std::size_t slots() const noexcept { return tail_ - head_; }

    void push(ReadyFn fn, void* self) {
        if (tail_ - head_ == cap_) grow();
        buf_[tail_++ & (cap_ - 1)] = ReadyEntry{fn, self};
        open_run_ = nullptr;
        ++count_;
    }

    /// Pushes the entry {fn, link}, joining the run in the last slot when that run
    /// has the same function. `link` must stay put and untouched until the entry is popped.
    void push_linked(ReadyFn fn, ReadyLink* link) {
        link->next = nullptr;
        if (open_run_ && buf_[(tail_ - 1) & (cap_ - 1)].fn == fn) {
            open_run_->next = link;
            open_run_ = link;
            ++count_;
            return;
        }
        if (tail_ - head_ == cap_) grow();
        buf_[tail_++ & (cap_ - 1)] = ReadyEntry{fn, tagged(link)};
        open_run_ = link;
        ++count_;
    }

    ReadyEntry pop() noexcept {
        ReadyEntry& slot = buf_[head_ & (cap_ - 1)];
        --count_;
        auto bits = reinterpret_cast<std::uintptr_t>(slot.self);
        if (!(bits & 1)) {
            ++head_;
            return slot;
        }
        auto* link = reinterpret_cast<ReadyLink*>(bits & ~std::uintptr_t{1});
        ReadyEntry e{slot.fn, link};
        if (link->next) {
            slot.self = tagged(link->next);
        } else {
            ++head_;
            if (open_run_ == link) open_run_ = nullptr;
        }
        return e;
    }

  private:
    static void* tagged(ReadyLink* l) noexcept {
        return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(l) | 1);
    }

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
    std::size_t count_ = 0;          // entries (a run counts each of its links)
    ReadyLink* open_run_ = nullptr;  // the last link of the run in the last slot, if any
};

}  // namespace asyncio::detail
