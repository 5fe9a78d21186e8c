// The epoll backend: level-triggered, one epoll_event per watched fd.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "backend/poller.hpp"

namespace asyncio::detail {

namespace {

class EpollPoller final : public Poller {
  public:
    EpollPoller() : ep_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (ep_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
        events_.resize(256);
        out_.resize(256);
    }
    ~EpollPoller() override { ::close(ep_); }

    void set_interest(int fd, bool read, bool write) override {
        std::uint32_t want = (read ? EPOLLIN : 0u) | (write ? EPOLLOUT : 0u);
        auto it = registered_.find(fd);
        epoll_event ev{};
        ev.events = want;
        ev.data.fd = fd;
        if (it == registered_.end()) {
            if (!want) return;
            if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0)
                throw std::system_error(errno, std::system_category(),
                                        "epoll_ctl(ADD, fd " + std::to_string(fd) + ")");
            registered_.emplace(fd, want);
        } else if (!want) {
            ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, &ev);  // the fd may be closed already
            registered_.erase(it);
        } else if (it->second != want) {
            if (::epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev) < 0)
                throw std::system_error(errno, std::system_category(),
                                        "epoll_ctl(MOD, fd " + std::to_string(fd) + ")");
            it->second = want;
        }
    }

    std::span<const Event> poll(std::int64_t timeout_ns) override {
        int ms;
        if (timeout_ns < 0)
            ms = -1;
        else if (timeout_ns == 0)
            ms = 0;
        else  // round up: waking early would only spin
            ms = static_cast<int>(
                std::min<std::int64_t>((timeout_ns + 999'999) / 1'000'000, 24 * 3600 * 1000));
        if (grow_) {
            events_.resize(events_.size() * 2);
            out_.resize(events_.size());
            grow_ = false;
        }
        int n = ::epoll_wait(ep_, events_.data(), static_cast<int>(events_.size()), ms);
        if (n < 0) {
            if (errno == EINTR) return {};  // a signal: the caller simply iterates again
            throw std::system_error(errno, std::system_category(), "epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            std::uint32_t e = events_[i].events;
            bool err = (e & (EPOLLERR | EPOLLHUP)) != 0;
            out_[i] = Event{events_[i].data.fd, (e & EPOLLIN) || err, (e & EPOLLOUT) || err};
        }
        std::span<const Event> ready(out_.data(), static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) == events_.size()) {
            grow_ = true;  // more fds may be ready: a bigger buffer from the next poll on
        }
        return ready;
    }

    const char* name() const noexcept override { return "epoll"; }

  private:
    int ep_;
    std::vector<epoll_event> events_;
    std::vector<Event> out_;  // what poll() returns, same size as events_
    bool grow_ = false;
    std::unordered_map<int, std::uint32_t> registered_;
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller() { return std::make_unique<EpollPoller>(); }

std::unique_ptr<Poller> make_poller() { return make_epoll_poller(); }

}  // namespace asyncio::detail
