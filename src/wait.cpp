#include "asyncio/wait.hpp"

namespace asyncio::detail {

void check_wait_args(std::size_t n, ReturnWhen rw) {
    if (n == 0) throw std::invalid_argument("wait: set of Tasks/Futures is empty.");
    if (rw != ReturnWhen::FIRST_COMPLETED && rw != ReturnWhen::FIRST_EXCEPTION &&
        rw != ReturnWhen::ALL_COMPLETED)
        throw std::invalid_argument("wait: invalid return_when value " +
                                    std::to_string(static_cast<int>(rw)));
}

WaitCore::WaitCore(EventLoop& loop, std::size_t n, ReturnWhen rw)
    : waiter(loop.create_future<void>()), links_(new Link[n]), counter_(n), rw_(rw) {}

WaitCore::~WaitCore() = default;

void WaitCore::start(std::optional<Seconds> timeout) {
    EventLoop& loop = waiter.get_loop();
    if (timeout) {
        StatePtr<WaitCore> self(this);
        timeout_ = loop.call_later(*timeout, [self] { self->release_waiter(); });
    }
    for (std::size_t i = 0; i < nlinks_; ++i) {
        add_ref();
        add_tagged_callback<&on_completion>(links_[i].f, &links_[i]);
    }
}

void WaitCore::release_waiter() {
    if (!waiter.done()) waiter.set_result();
}

void WaitCore::on_completion(void* self, bool run) {
    auto* l = static_cast<Link*>(self);
    WaitCore* c = l->core;
    StatePtr<WaitCore> keep(c);
    c->release();
    if (!run || c->finished_) return;
    --c->counter_;
    FutureBase* f = l->f;
    if (c->counter_ == 0 || c->rw_ == ReturnWhen::FIRST_COMPLETED ||
        (c->rw_ == ReturnWhen::FIRST_EXCEPTION && !f->cancelled() && f->exception())) {
        c->timeout_.cancel();
        c->release_waiter();
    }
}

void WaitCore::finish() noexcept {
    if (finished_) return;
    finished_ = true;
    timeout_.cancel();
    timeout_ = TimerHandle();
    StatePtr<WaitCore> keep(this);
    for (std::size_t i = 0; i < nlinks_; ++i)
        links_[i].f->remove_callback_entry(&on_completion, &links_[i]);
}

AsCompletedCore::AsCompletedCore(EventLoop& loop, std::vector<Child> children)
    : loop_(loop), children_(std::move(children)), rank_of_(children_.size(), -1) {}

AsCompletedCore::~AsCompletedCore() {
    // Only plain-future inputs can still be watched here: withdraw from them.
    for (std::size_t i = 0; i < nlinks_; ++i)
        if (!links_[i].owning && !children_[i].state->done())
            children_[i].state->remove_callback_entry(&on_completion, &links_[i]);
}

void AsCompletedCore::start(std::optional<Seconds> timeout) {
    links_.reset(new Link[children_.size()]);
    for (std::size_t i = 0; i < children_.size(); ++i) {
        const bool task = children_[i].state->is_task();
        links_[i] = Link{this, i, task, false};
        if (task) add_ref();
        add_tagged_callback<&on_completion>(children_[i].state.get(), &links_[i]);
    }
    nlinks_ = children_.size();
    if (timeout && !children_.empty()) {
        StatePtr<AsCompletedCore> self(this);
        timeout_ = loop_.call_later(*timeout, [self] { self->on_timeout(); });
    }
}

std::size_t AsCompletedCore::claim(std::size_t index) {
    if (form_ == Form::ITERATOR)
        throw RuntimeError("as_completed: iterated with next(), its elements cannot be awaited");
    form_ = Form::ELEMENTS;
    if (rank_of_[index] < 0) rank_of_[index] = static_cast<std::int64_t>(next_claim_++);
    return static_cast<std::size_t>(rank_of_[index]);
}

std::ptrdiff_t AsCompletedCore::next_index() {
    if (form_ == Form::ELEMENTS)
        throw RuntimeError(
            "as_completed: its elements are awaited, it cannot be iterated with next()");
    if (form_ == Form::UNDECIDED) {
        form_ = Form::ITERATOR;
        filled_before_ = next_fill_;
    }
    if (next_out_ == children_.size()) return kEnd;
    if (next_out_ < order_.size()) {
        std::size_t rank = next_out_++;
        std::size_t i = order_[rank];
        const Child& ch = children_[i];
        if (rank < filled_before_ && ch.owned && fill_moves() && !ch.state->cancelled() &&
            !ch.state->exception())
            throw RuntimeError(
                "as_completed: the result of this task was already moved into an element");
        return static_cast<std::ptrdiff_t>(i);
    }
    if (timed_out_) {
        ++next_out_;
        throw TimeoutError();
    }
    return kWait;
}

Future<void> AsCompletedCore::next_ready() {
    if (!next_ready_ || next_ready_.done()) next_ready_ = loop_.create_future<void>();
    return next_ready_;
}

void AsCompletedCore::wake_iterator() {
    if (next_ready_ && !next_ready_.done()) next_ready_.set_result();
}

void AsCompletedCore::hold(void* self) noexcept {
    auto* l = static_cast<Link*>(self);
    if (l->owning) return;
    l->core->add_ref();
    l->held = true;
}

void AsCompletedCore::on_completion(void* self, bool run) {
    auto* l = static_cast<Link*>(self);
    AsCompletedCore* c = l->core;
    if (!l->owning && !std::exchange(l->held, false)) return;  // disposed of, holding nothing
    StatePtr<AsCompletedCore> keep(c);
    c->release();
    if (!run || c->timed_out_) return;
    Child& ch = c->children_[l->i];
    c->order_.push_back(l->i);
    if (c->form_ == Form::ITERATOR) {
        // The iterator form hands out the inputs themselves: the slots stay unused.
        ++c->next_fill_;
        c->wake_iterator();
    } else {
        // Move a value out of a task only once no one else can see that task (element form).
        c->fill(c->next_fill_++, ch.state.get(), ch.owned && c->form_ == Form::ELEMENTS);
    }
    if (c->next_fill_ == c->children_.size()) {
        c->timeout_.cancel();
        c->timeout_ = TimerHandle();
    }
}

void AsCompletedCore::on_timeout() {
    timed_out_ = true;
    timeout_ = TimerHandle();
    StatePtr<AsCompletedCore> keep(this);
    for (std::size_t i = 0; i < children_.size(); ++i)
        if (!children_[i].state->done())
            children_[i].state->remove_callback_entry(&on_completion, &links_[i]);
    if (form_ == Form::ITERATOR) {
        next_fill_ = children_.size();
        wake_iterator();
        return;
    }
    while (next_fill_ < children_.size()) fill_timeout(next_fill_++);
}

}  // namespace asyncio::detail
