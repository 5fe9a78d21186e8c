// The item stores behind Queue, LifoQueue and PriorityQueue: push/pop/size on values that
// may be move-only. The FIFO store is a power-of-two ring, so a queue in steady state (one
// put, one get) never allocates.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace asyncio::detail {

template <class T>
class FifoStore {
  public:
    FifoStore() = default;
    FifoStore(const FifoStore&) = delete;
    FifoStore& operator=(const FifoStore&) = delete;
    ~FifoStore() {
        while (size_) pop();
        ::operator delete (buf_, std::align_val_t{alignof(T)});
    }

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    void push(T&& v) {
        if (size_ == cap_) grow();
        ::new (static_cast<void*>(buf_ + ((head_ + size_) & (cap_ - 1)))) T(std::move(v));
        ++size_;
    }
    T pop() {
        T* p = buf_ + head_;
        T v(std::move(*p));
        p->~T();
        head_ = (head_ + 1) & (cap_ - 1);
        --size_;
        return v;
    }

  private:
    void grow() {
        std::size_t ncap = cap_ ? cap_ * 2 : 8;
        T* nb = static_cast<T*>(::operator new (ncap * sizeof(T), std::align_val_t{alignof(T)}));
        for (std::size_t i = 0; i < size_; ++i) {
            T* p = buf_ + ((head_ + i) & (cap_ - 1));
            ::new (static_cast<void*>(nb + i)) T(std::move(*p));
            p->~T();
        }
        ::operator delete (buf_, std::align_val_t{alignof(T)});
        buf_ = nb;
        cap_ = ncap;
        head_ = 0;
    }

    T* buf_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

template <class T>
class LifoStore {
  public:
    bool empty() const noexcept { return v_.empty(); }
    std::size_t size() const noexcept { return v_.size(); }
    void push(T&& v) { v_.push_back(std::move(v)); }
    T pop() {
        T v(std::move(v_.back()));
        v_.pop_back();
        return v;
    }

  private:
    std::vector<T> v_;
};

/// A binary heap giving the smallest item (by Compare) first, like Python's heapq.
template <class T, class Compare>
class HeapStore {
  public:
    bool empty() const noexcept { return v_.empty(); }
    std::size_t size() const noexcept { return v_.size(); }
    void push(T&& v) {
        v_.push_back(std::move(v));
        std::push_heap(v_.begin(), v_.end(), Greater{comp_});
    }
    T pop() {
        std::pop_heap(v_.begin(), v_.end(), Greater{comp_});
        T v(std::move(v_.back()));
        v_.pop_back();
        return v;
    }

  private:
    struct Greater {
        Compare& c;
        bool operator()(const T& a, const T& b) const { return c(b, a); }
    };
    std::vector<T> v_;
    Compare comp_{};
};

}  // namespace asyncio::detail
