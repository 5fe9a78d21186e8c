// The per-thread state of the library: the running loop, the current task and context, and
// the slot a finished coroutine leaves its exception in.
#pragma once

#include <exception>

namespace asyncio {

class EventLoop;

namespace detail {

class TaskCore;
struct ContextData;

struct ThreadState {
    EventLoop* running_loop = nullptr;
    TaskCore* current_task = nullptr;
    EventLoop* event_loop = nullptr;           // set_event_loop()
    ContextData** context_override = nullptr;  // set by ContextScope (Context.run)
    // The exception a Coro just ended with, from its unhandled_exception() until its awaiter
    // (or task) takes it: the two run back to back on this thread, so one slot serves every
    // frame and no frame carries an exception_ptr of its own (see coro.hpp).
    std::exception_ptr* coro_exc = nullptr;
};
inline thread_local ThreadState tls;

}  // namespace detail
}  // namespace asyncio
