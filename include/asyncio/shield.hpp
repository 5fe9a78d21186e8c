// shield(): protect an awaitable from the cancellation of whoever awaits it.
#pragma once

#include <utility>

#include "asyncio/detail/awaitable_traits.hpp"

namespace asyncio {

namespace detail {

/// The two done callbacks of a shield (inner → outer result, outer cancelled → unhook).
///
/// The link owns the outer (the inner's result reaches it even if every handle was dropped,
/// as CPython's closure keeps it) but not the inner: `inner` is valid while inner_done is
/// stored on it (a future disposes of its callbacks when it is destroyed or abandoned) and,
/// once queued, through the reference hold_inner() takes for it. Owning the inner too made a
/// cycle (inner -> its callback -> link -> inner) that a plain Future nobody completes,
/// pending when its loop is closed by hand, never left. Deleted once both callbacks ran or
/// were disposed of.
struct ShieldLink : pooled {
    ShieldLink(FutureBase* i, StatePtr<FutureBase> o, void (*c)(FutureBase*, FutureBase*, bool),
               bool own)
        : inner(i), outer(std::move(o)), copy(c), owned(own) {}
    FutureBase* inner;           // null once inner_done ran or was disposed of
    StatePtr<FutureBase> outer;  // null once outer_done ran or was withdrawn
    void (*copy)(FutureBase* inner, FutureBase* outer, bool owned);
    bool owned;
    bool inner_held = false;  // inner_done is queued and holds a reference to inner
    int pending = 2;
    static void inner_done(void* self, bool run);
    /// The outer future of the shield whose inner's done callback `e` is, else null.
    static FutureBase* awaiter_of(ReadyEntry e) noexcept {
        return e.fn == &inner_done ? static_cast<ShieldLink*>(e.self)->outer.get() : nullptr;
    }
    static void outer_done(void* self, bool run);
    static void hold_inner(void* self) noexcept;
    void drop() {
        if (--pending == 0) delete this;
    }
};

void shield_link(ShieldLink* l);

template <class T>
void shield_copy(FutureBase* inner, FutureBase* outer, bool owned) {
    Future<T> o(outer);
    if constexpr (std::is_void_v<T>)
        o.set_result();
    else
        o.set_result(take_value<T>(inner, owned));
}

}  // namespace detail

/// A Future that completes like `aw` (a coroutine, wrapped in a task at once, a task or a
/// future), but whose cancellation does not reach `aw`.
///
/// The inner's result or exception passes through; cancelling the inner cancels the outer.
/// A shielded done future is returned as is.
/// Cancellation: cancelling the returned future (e.g. the task awaiting it) leaves the inner
/// running; if the inner then fails, its exception is reported once, as never retrieved.
/// Python: asyncio.shield(aw).
template <detail::awaitable_arg A>
Future<detail::awaitable_value_t<A>> shield(A&& aw) {
    using T = detail::awaitable_value_t<A>;
    EventLoop& loop = [&]() -> EventLoop& {
        if constexpr (detail::future_arg<A>)
            return aw.get_loop();
        else
            return get_event_loop();
    }();
    detail::Child inner = detail::to_child(std::forward<A>(aw), loop, "shield");
    if (inner.state->done()) return Future<T>(inner.state.get());
    Future<T> outer = loop.create_future<T>();
    auto* l = new detail::ShieldLink(inner.state.get(),
                                     detail::StatePtr<detail::FutureBase>(outer.state()),
                                     &detail::shield_copy<T>, inner.owned);
    detail::shield_link(l);
    return outer;
}

}  // namespace asyncio
