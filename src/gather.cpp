#include "asyncio/gather.hpp"

#include <unordered_set>

namespace asyncio::detail {

void throw_different_loop(const char* who) {
    throw std::invalid_argument(std::string(who) +
                                ": futures are tied to different event loops");
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

GatherBase::~GatherBase() = default;

std::string GatherBase::repr() const {
    const char* st = state_ == State::pending     ? "pending"
                     : state_ == State::cancelled ? "cancelled"
                                                  : "finished";
    std::string s = std::string("<_GatheringFuture ") + st;
    if (state_ == State::finished && exc_) s += " exception=" + describe_exception(exc_);
    return s + ">";
}

void GatherBase::start() {
    std::size_t n = children_.size();
    if (n == 0) {
        build();
        finish_with_value();
        return;
    }
    links_.reset(new Link[n]);
    // A child passed twice gets one callback (CPython's arg_to_fut dedup). Only children
    // the caller passed can repeat: the tasks made here are new.
    std::unordered_set<FutureBase*> seen;
    bool may_repeat = false;
    for (auto& c : children_)
        if (!c.owned) {
            may_repeat = true;
            break;
        }
    if (may_repeat) seen.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        FutureBase* c = children_[i].state.get();
        if (!children_[i].owned && !seen.insert(c).second) continue;
        links_[nfuts_] = Link{this, c};
        add_ref();
        add_tagged_callback<&child_done>(c, &links_[nfuts_]);
        ++nfuts_;
    }
}

void GatherBase::child_done(void* self, bool run) {
    auto* l = static_cast<Link*>(self);
    GatherBase* g = l->g;
    if (run) {
        try {
            g->on_child_done(l->child);
        } catch (...) {
            g->release();
            throw;
        }
    } else if (!g->done()) {
        g->abandon();
    }
    g->release();
}

void GatherBase::abandon() {
    // A child's callback was disposed of without running: the child (a task) was abandoned
    // when the loop closed, so this gather can never complete. It lets go of everything that
    // could form a cycle with it: its callbacks on the children still pending (each holds a
    // reference to it, and it holds them) and its own done callbacks (an enclosing gather's
    // or shield's link holds a reference to it). Without this, a nested gather pending at
    // loop close kept the closed loop alive (LSan: 5.8 KB).
    if (abandoned_) return;
    abandoned_ = true;
    add_ref();  // the removals below release links' references
    for (std::size_t i = 0; i < nfuts_; ++i)
        if (!links_[i].child->done()) links_[i].child->remove_callback_entry(&child_done, &links_[i]);
    dispose_callbacks();
    release();
}

void GatherBase::finish_exception(std::exception_ptr e) {
    exc_ = std::move(e);
    state_ = State::finished;
    log_traceback_ = true;
    schedule_callbacks();
    // children_ stays until the last child's callback ran: a callback already queued for a
    // child must not find that child destroyed.
    if (nfinished_ == nfuts_) children_.clear();
}

void GatherBase::on_child_done(FutureBase* child) {
    ++nfinished_;
    if (done()) {
        // Mark the late child's exception as retrieved: the gather already reported one.
        if (!child->cancelled()) child->exception();
        if (nfinished_ == nfuts_) children_.clear();
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
    children_.clear();
    finish_with_value();
}

bool GatherBase::cancel(std::optional<std::string> msg) {
    log_traceback_ = false;
    if (done()) return false;
    bool ret = false;
    // Copy: a child's cancel cannot complete this synchronously (callbacks are scheduled),
    // but keep the loop independent of that.
    std::vector<Child> kids = children_;
    for (auto& c : kids)
        if (c.state->cancel(msg)) ret = true;
    if (ret) cancel_requested_ = true;
    return ret;
}

}  // namespace asyncio::detail
