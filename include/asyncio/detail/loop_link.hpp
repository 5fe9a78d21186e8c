// LoopLink: a loop-side handle that another thread completes later, listed by the loop.
#pragma once

#include <memory>
#include <mutex>

namespace asyncio {

class EventLoop;

namespace detail {

/// A handle on the loop that another thread completes later (wrap_future's Future, say). The
/// loop lists it while that work is out; close() takes the handle out under the link's mutex
/// and releases it on the loop's thread, so that the other thread, finishing after the close,
/// finds nothing to release (and a closed loop is freed once its last handle goes, not when
/// its last job returns). The other thread holds `m` while it posts back: close() waits for
/// that post to be accepted or refused.
class LoopLink {
  public:
    LoopLink() = default;
    LoopLink(const LoopLink&) = delete;
    LoopLink& operator=(const LoopLink&) = delete;
    virtual ~LoopLink() = default;
    /// Releases the loop-side handle (loop thread, `m` held).
    virtual void drop_handle() noexcept = 0;

    std::mutex m;

  private:
    friend class asyncio::EventLoop;
    LoopLink* prev_ = nullptr;
    LoopLink* next_ = nullptr;
    std::shared_ptr<LoopLink> self_;  // the list's reference, while listed
};

}  // namespace detail
}  // namespace asyncio
