#include "asyncio/shield.hpp"

#include "asyncio/wait_for.hpp"

namespace asyncio::detail {

void shield_link(ShieldLink* l) {
    l->inner->add_callback(&ShieldLink::inner_done, l);
    l->outer->add_callback(&ShieldLink::outer_done, l);
}

void ShieldLink::hold_inner(void* self) noexcept {
    auto* l = static_cast<ShieldLink*>(self);
    l->inner->add_ref();
    l->inner_held = true;
}

void ShieldLink::inner_done(void* self, bool run) {
    auto* l = static_cast<ShieldLink*>(self);
    FutureBase* inner = std::exchange(l->inner, nullptr);
    StatePtr<FutureBase> hold;  // adopts the queued callback's reference
    if (std::exchange(l->inner_held, false)) {
        hold = StatePtr<FutureBase>(inner);
        inner->release();
    }
    struct Drop {  // after the callback, whether it returns or throws
        ShieldLink* l;
        ~Drop() { l->drop(); }
    } drop{l};
    FutureBase* outer = l->outer.get();
    if (!outer) return;  // outer_done ran first and is waiting for this one
    if (!run) {
        // The inner was disposed of without completing (its task abandoned at loop close, or
        // the future destroyed): the outer can only be cancelled now. Withdraw from it, which
        // runs outer_done(l, false) and lets go of the link's reference to it.
        StatePtr<FutureBase> keep = l->outer;  // alive while its own list is edited
        outer->remove_callback_entry(&ShieldLink::outer_done, l);
        return;
    }
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
}

void ShieldLink::outer_done(void* self, bool run) {
    auto* l = static_cast<ShieldLink*>(self);
    StatePtr<FutureBase> outer = std::move(l->outer);  // let go of once the link is done
    // The outer is done: nothing more to wait for from an inner still pending (removing its
    // entry disposes of it, which drops that share of the link).
    if (run && l->inner && !l->inner->done())
        l->inner->remove_callback_entry(&ShieldLink::inner_done, l);
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
