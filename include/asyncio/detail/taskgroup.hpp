// The state of a TaskGroup, shared with the done callbacks of its tasks.
#pragma once

#include <cstddef>
#include <exception>
#include <vector>

#include "asyncio/detail/wait.hpp"
#include "asyncio/tasks.hpp"

namespace asyncio::detail {

/// Invariants: the tracked tasks are the unfinished ones the group created (each node holds a
/// reference to this core until its callback runs or is removed); on_completed_ is set only
/// while join() waits for the last of them.
class TaskGroupCore final : public RefCounted {
  public:
    explicit TaskGroupCore(AnyTask parent);
    ~TaskGroupCore() override;

    void check_create() const;
    /// The parent task of the group whose done callback `e` is, else null (the call graph:
    /// a group's task is awaited by the group's parent, as in CPython 3.14).
    static FutureBase* awaiter_of(ReadyEntry e) noexcept {
        return e.fn == &on_task_done_thunk ? static_cast<Node*>(e.self)->core->parent_.state()
                                           : nullptr;
    }
    void track(TaskCore* t);
    /// The body of join() (Python: TaskGroup._aexit).
    Coro<void> exit(std::exception_ptr body_error);
    /// The group is destroyed without join(): cancel and forget what it holds.
    void abandon();

    AnyTask parent_;
    bool entered_ = false;       // made in a task (the parent)
    bool with_entered_ = false;  // aenter() was called

  private:
    struct Node : pooled {
        TaskGroupCore* core;
        StatePtr<TaskCore> task;
        Node* prev = nullptr;
        Node* next = nullptr;
    };
    static void on_task_done_thunk(void* self, bool run);
    void on_task_done(TaskCore* t);
    void unlink(Node* n) noexcept;
    void abort();
    static bool is_base_error(const std::exception_ptr& e) noexcept;

    EventLoop* loop_ = nullptr;
    Node* head_ = nullptr;
    std::size_t ntasks_ = 0;
    std::vector<std::exception_ptr> errors_;
    std::exception_ptr base_error_;
    Future<void> on_completed_;
    bool exiting_ = false;
    bool aborting_ = false;
    bool parent_cancel_requested_ = false;
    bool abandoned_ = false;
    bool joined_ = false;
};

}  // namespace asyncio::detail
