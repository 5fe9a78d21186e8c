#include "asyncio/wait.hpp"

namespace asyncio::detail {

void check_wait_args(std::size_t n, ReturnWhen rw) {
    if (n == 0) throw std::invalid_argument("wait: set of Tasks/Futures is empty.");
    if (rw != ReturnWhen::FIRST_COMPLETED && rw != ReturnWhen::FIRST_EXCEPTION &&
        rw != ReturnWhen::ALL_COMPLETED)
        throw std::invalid_argument("wait: invalid return_when value " +
                                    std::to_string(static_cast<int>(rw)));
}

WaitCore::WaitCore(EventLoop& loop, std::vector<FutureBase*> fs, ReturnWhen rw)
    : waiter(loop.create_future<void>()), fs_(std::move(fs)), counter_(fs_.size()), rw_(rw) {}

WaitCore::~WaitCore() = default;

void WaitCore::start(std::optional<Seconds> timeout) {
    EventLoop& loop = waiter.get_loop();
    if (timeout) {
        StatePtr<WaitCore> self(this);
        timeout_ = loop.call_later(*timeout, [self] { self->release_waiter(); });
    }
    links_.reset(new Link[fs_.size()]);
    for (std::size_t i = 0; i < fs_.size(); ++i) {
        links_[i] = Link{this, fs_[i]};
        add_ref();
        add_tagged_callback<&on_completion>(fs_[i], &links_[i]);
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
    for (std::size_t i = 0; i < fs_.size(); ++i)
        fs_[i]->remove_callback_entry(&on_completion, &links_[i]);
}

AsCompletedCore::AsCompletedCore(EventLoop& loop, std::vector<Child> children)
    : loop_(loop), children_(std::move(children)), rank_of_(children_.size(), -1) {}

AsCompletedCore::~AsCompletedCore() = default;

void AsCompletedCore::start(std::optional<Seconds> timeout) {
    links_.reset(new Link[children_.size()]);
    for (std::size_t i = 0; i < children_.size(); ++i) {
        links_[i] = Link{this, i};
        add_ref();
        add_tagged_callback<&on_completion>(children_[i].state.get(), &links_[i]);
    }
    nlinks_ = children_.size();
    if (timeout && !children_.empty()) {
        StatePtr<AsCompletedCore> self(this);
        timeout_ = loop_.call_later(*timeout, [self] { self->on_timeout(); });
    }
}

std::size_t AsCompletedCore::claim(std::size_t index) {
    if (rank_of_[index] < 0) rank_of_[index] = static_cast<std::int64_t>(next_claim_++);
    return static_cast<std::size_t>(rank_of_[index]);
}

void AsCompletedCore::on_completion(void* self, bool run) {
    auto* l = static_cast<Link*>(self);
    AsCompletedCore* c = l->core;
    StatePtr<AsCompletedCore> keep(c);
    c->release();
    if (!run || c->timed_out_) return;
    Child& ch = c->children_[l->i];
    c->fill(c->next_fill_++, ch.state.get(), ch.owned);
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
    while (next_fill_ < children_.size()) fill_timeout(next_fill_++);
}

}  // namespace asyncio::detail
