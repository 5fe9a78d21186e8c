#include "asyncio/gather.hpp"

namespace asyncio::detail {

void throw_different_loop(const char* who) {
    throw std::invalid_argument(std::string(who) + ": futures are tied to different event loops");
}

std::exception_ptr child_exception(FutureBase* c) {
    if (c->cancelled()) {
        try {
            c->check_result();
        } catch (...) {
            return std::current_exception();
        }
    }
    return c->exception();
}

void GatherLinks::reserve(std::size_t n, GatherCore* owner) {
    if (n <= cap_) return;
    const std::size_t words = slot(n - 1) + 1;
    auto* w = static_cast<GatherLink*>(
        ::operator new (words * sizeof(GatherLink), std::align_val_t{group_bytes}));
    for (std::size_t g = 0; g < words; g += group_words)
        w[g].bits = reinterpret_cast<std::uintptr_t>(owner);
    for (std::size_t i = 0; i < size_; ++i) w[slot(i)] = words_[slot(i)];
    free_storage();
    words_ = w;
    cap_ = n;
}

void GatherLinks::free_storage() noexcept {
    if (words_) ::operator delete (words_, std::align_val_t{group_bytes});
}

GatherCore::~GatherCore() {
    // Only a plain-future child can still be pending here (a task child's callback owns
    // this gather). It keeps no callback pointing here. Once this gather had failed, what
    // the child raises later counts as retrieved, as CPython's callback retrieves it.
    if (nfinished_ < nfuts_) {
        for (std::size_t i = 0; i < links_.size(); ++i) {
            Link& l = links_[i];
            FutureBase* c = l.child();
            if (l.owning() || c->done()) continue;
            c->remove_callback_entry(&child_done, &l);  // a repeat has none: nothing is found
            if (done()) {
                try {
                    c->mark_retrieved_when_done();
                } catch (...) {  // out of memory: at worst, one report too many
                }
            }
        }
    }
    drop_links();
}

void GatherCore::drop_links() noexcept {
    for (std::size_t i = 0; i < links_.size(); ++i) links_[i].child()->release();
    links_.clear();
}

void GatherCore::add_child(Child c) {
    FutureBase* f = c.state.get();
    links_.push_back(Link{reinterpret_cast<std::uintptr_t>(f) | (c.owned ? Link::kOwned : 0)},
                     this);
    f->add_ref();  // the link's reference; `c` lets go of its own
}

std::string GatherCore::repr() const {
    const char* st = state_ == State::pending     ? "pending"
                     : state_ == State::cancelled ? "cancelled"
                                                  : "finished";
    std::string s = std::string("<_GatheringFuture ") + st;
    if (state_ == State::finished && exc_) s += " exception=" + describe_exception(exc_);
    return s + ">";
}

void GatherCore::start() {
    if (links_.empty()) {
        build();
        finish_with_value();
        return;
    }
    // CPython 3.12 (gh-97696): children already done (futures done before the call, eager
    // tasks that ended inside create_task) are counted at once, after every pending child
    // got its callback, so that a gather of done children is done when it is returned.
    std::size_t ndone = 0;
    for (std::size_t i = 0; i < links_.size(); ++i) {
        Link& l = links_[i];
        FutureBase* c = l.child();
        if (c->done()) {
            ++ndone;
            ++nfuts_;
            continue;
        }
        // A repeat of a pending child the caller passed (tasks made here are new): its last
        // callback is this gather's.
        if (!l.owned()) {
            ReadyEntry last = c->last_callback();
            if (last.fn == &child_done && GatherLinks::owner(static_cast<Link*>(last.self)) == this)
                continue;
        }
        if (c->is_task()) {
            l.bits |= Link::kOwning;
            add_ref();
        }
        add_tagged_callback<&child_done>(c, &l);
        ++nfuts_;
    }
    if (ndone == 0) return;
    std::vector<StatePtr<FutureBase>> done;
    done.reserve(ndone);
    for (std::size_t i = 0; i < links_.size(); ++i)
        if (links_[i].child()->done()) done.emplace_back(links_[i].child());
    StatePtr<FutureBase> keep(this);
    for (auto& c : done) on_child_done(c.get());
}

void GatherCore::hold(void* self) noexcept {
    auto* l = static_cast<Link*>(self);
    if (l->owning()) return;  // it holds the gather already
    GatherLinks::owner(l)->add_ref();
    l->bits |= Link::kHeld;
}

void GatherCore::child_done(void* self, bool run) {
    auto* l = static_cast<Link*>(self);
    GatherCore* g = GatherLinks::owner(l);
    const bool holds = l->owning() || (l->bits & Link::kHeld) != 0;
    l->bits &= ~Link::kHeld;
    // A plain future's callback disposed of before it was queued holds nothing: the future
    // was disposed of with it, and whoever holds the gather lets it go.
    if (!holds) return;
    struct Release {  // after the callback, whether it returns or throws
        GatherCore* g;
        ~Release() { g->release(); }
    } release{g};
    if (run)
        g->on_child_done(l->child());
    else if (l->owning() && !g->done())
        g->abandon();
}

void GatherCore::abandon() {
    // A task child's callback was disposed of without running: the task was abandoned when
    // the loop closed, so this gather can never complete. It lets go of everything that
    // could form a cycle with it: its callbacks on the task children still pending (each
    // holds a reference to it, and it holds them) and its own done callbacks. Without this, a
    // nested gather pending at loop close kept the closed loop alive (LSan: 5.8 KB).
    if (abandoned_) return;
    abandoned_ = true;
    add_ref();  // the removals below release links' references
    for (std::size_t i = 0; i < links_.size(); ++i) {  // a repeat has no callback of its own
        Link& l = links_[i];
        if (!l.child()->done()) l.child()->remove_callback_entry(&child_done, &l);
    }
    dispose_callbacks();
    release();
}

void GatherCore::finish_exception(std::exception_ptr e) {
    exc_ = std::move(e);
    state_ = State::finished;
    log_traceback_ = true;
    schedule_callbacks();
    // links_ stays until the last child's callback ran: a callback already queued for a
    // child must not find that child destroyed.
    if (nfinished_ == nfuts_) drop_links();
}

void GatherCore::on_child_done(FutureBase* child) {
    ++nfinished_;
    if (done()) {
        // Mark the late child's exception as retrieved: the gather already reported one.
        if (!child->cancelled()) child->exception();
        if (nfinished_ == nfuts_) drop_links();
        return;
    }
    if (!return_exceptions_) {
        if (auto e = child_exception(child)) {
            finish_exception(std::move(e));
            return;
        }
    }
    if (nfinished_ < nfuts_) return;
    if (cancel_requested_) {
        // The gather was cancelled: cancellation propagates whatever return_exceptions says
        // (CPython issue 32684).
        std::exception_ptr e = child->cancelled() ? child_exception(child) : nullptr;
        finish_exception(e ? e : std::make_exception_ptr(CancelledError()));
        return;
    }
    try {
        build();
    } catch (...) {
        finish_exception(std::current_exception());
        return;
    }
    drop_links();
    finish_with_value();
}

bool GatherCore::cancel(std::optional<std::string> msg) {
    log_traceback_ = false;
    if (done()) return false;
    bool ret = false;
    // By index, re-reading the size: a child's cancel cannot empty links_ (callbacks are
    // scheduled, never run inline), but the loop does not rely on it.
    for (std::size_t i = 0; i < links_.size(); ++i)
        if (links_[i].child()->cancel(msg)) ret = true;
    if (ret) cancel_requested_ = true;
    return ret;
}

}  // namespace asyncio::detail
