#include "asyncio/shield.hpp"

#include "asyncio/wait_for.hpp"

namespace asyncio::detail {

void shield_link(ShieldLink* l) {
    l->inner->add_callback(&ShieldLink::inner_done, l);
    l->outer->add_callback(&ShieldLink::outer_done, l);
}

void ShieldLink::inner_done(void* self, bool run) {
    auto* l = static_cast<ShieldLink*>(self);
    if (run) {
        FutureBase* inner = l->inner.get();
        FutureBase* outer = l->outer.get();
        if (outer->cancelled()) {
            if (!inner->cancelled()) inner->exception();  // mark it retrieved
        } else if (!outer->done()) {
            if (inner->cancelled()) {
                outer->cancel(std::nullopt);
            } else if (auto e = inner->exception()) {
                outer->set_exception(e);
            } else {
                try {
                    l->copy(inner, outer, l->owned);
                } catch (...) {
                    outer->set_exception(std::current_exception());
                }
            }
        }
    } else if (!l->outer->done()) {
        // The inner was disposed of without completing (its task abandoned at loop close, or
        // the future destroyed): the outer can never complete through this link. Withdraw the
        // link from the outer too, or the link and the outer keep each other alive (each holds
        // the other) and, through the inner's reference to its loop, the closed loop leaks.
        // Removing the entry runs outer_done(l, false), which drops the outer's share. The
        // outer's own callbacks (an enclosing gather's or shield's link) go the same way.
        l->outer->remove_callback_entry(&ShieldLink::outer_done, l);
        l->outer->dispose_callbacks();
    }
    l->drop();
}

void ShieldLink::outer_done(void* self, bool run) {
    auto* l = static_cast<ShieldLink*>(self);
    if (run && !l->inner->done()) {
        // Removing the inner's callback disposes of it (drop() runs there).
        l->inner->remove_callback_entry(&ShieldLink::inner_done, l);
    }
    l->drop();
}

Coro<void> cancel_and_wait(AnyFuture f) {
    Future<void> waiter = f.get_loop().create_future<void>();
    f.state()->add_callback(
        [](void* self, bool) {
            Future<void> w(static_cast<FutureBase*>(self));
            static_cast<FutureBase*>(self)->release();
            if (!w.done()) w.set_result();
        },
        waiter.state());
    waiter.state()->add_ref();  // the callback's reference
    f.cancel();
    co_await waiter;
}

}  // namespace asyncio::detail
