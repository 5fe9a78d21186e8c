// Queues between tasks: Queue (FIFO), LifoQueue and PriorityQueue (Python's asyncio.queues).
//
// A queue holds at most maxsize items (0: unbounded). put() waits while the queue is full,
// get() while it is empty; waiters are served in FIFO order. As in Python, a waiter is only
// woken: it takes (or inserts) its item when it resumes, so an item is never parked with a
// task that might be cancelled. Items may be move-only. A queue can be shut down (3.13):
// puts fail, gets drain what is left and then fail, with QueueShutDown.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <stdexcept>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/basic_queue.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/locks.hpp"

namespace asyncio {

/// A first-in, first-out queue. Python: asyncio.Queue. `Queue<int> q(2);` bounds it to 2.
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoStore<T>> {
  public:
    using detail::BasicQueue<T, detail::FifoStore<T>>::BasicQueue;
};

/// A last-in, first-out queue. Python: asyncio.LifoQueue.
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoStore<T>> {
  public:
    using detail::BasicQueue<T, detail::LifoStore<T>>::BasicQueue;
};

/// A queue that gives the smallest item first (by `Compare`, std::less by default), like
/// Python's heapq-based asyncio.PriorityQueue; put (priority, data) pairs or tuples to
/// attach data. Equal items come out in no particular order.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::HeapStore<T, Compare>> {
  public:
    using detail::BasicQueue<T, detail::HeapStore<T, Compare>>::BasicQueue;
};

}  // namespace asyncio
