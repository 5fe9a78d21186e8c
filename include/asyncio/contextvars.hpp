// Context variables: values that follow the flow of control of a task (Python's contextvars).
//
// Every task runs in the context that was current when it was created (a copy, in Python's
// terms): a variable set in a task is seen by the coroutines it awaits, never by its parent
// or its siblings. Contexts are immutable snapshots shared by reference, so creating a task
// or copy_context() costs a reference count, and set() makes a new snapshot.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "asyncio/detail/context.hpp"
#include "asyncio/detail/thread_state.hpp"
#include "asyncio/exceptions.hpp"

namespace asyncio {

/// A variable that has no value in the current context (and no default). Python: LookupError.
class LookupError : public std::out_of_range {
  public:
    using std::out_of_range::out_of_range;
};

namespace detail {

/// Identifies whose context is current: the running Context.run scope, else the running
/// task, else the thread (nullptr).
inline const void* context_owner() noexcept {
    if (tls.context_override) return tls.context_override;
    return tls.current_task;
}

/// A new context: `ctx` with `var` set to `value` (or removed, when `value` is null).
ContextData* context_with(ContextData* ctx, const void* var, std::shared_ptr<const void> value);

}  // namespace detail

template <class T>
class ContextVar;

/// A snapshot of a context that code can run in. Python: contextvars.Context.
///
/// run(fn) makes this context current while fn runs; what fn sets stays in this Context
/// object (visible to later run() calls) and never leaks to the caller.
///
/// The loop's API takes it by value (TaskOptions::context, call_soon(context, ...)), so
/// events.hpp includes this header, which needs nothing of the loop.
class Context {
  public:
    Context() noexcept = default;
    explicit Context(detail::ContextRef ref) noexcept : ref_(std::move(ref)) {}

    /// Calls `fn(args...)` with this context current; gives its result.
    template <class F, class... A>
    decltype(auto) run(F&& fn, A&&... args) {
        struct Commit {
            Context* self;
            detail::ContextScope scope;
            ~Commit() { self->ref_ = detail::ContextRef(scope.get()); }
        } commit{this, detail::ContextScope(ref_.get())};
        return std::invoke(std::forward<F>(fn), std::forward<A>(args)...);
    }

    /// The value of `var` in this context, if set.
    template <class T>
    std::optional<T> get(const ContextVar<T>& var) const {
        if (auto* v = detail::context_find(ref_.get(), &var))
            return *static_cast<const T*>(v->get());
        return std::nullopt;
    }
    template <class T>
    bool contains(const ContextVar<T>& var) const noexcept {
        return detail::context_find(ref_.get(), &var) != nullptr;
    }
    /// Number of variables set in this context.
    std::size_t size() const noexcept { return ref_.get() ? ref_.get()->values.size() : 0; }

    detail::ContextData* data() const noexcept { return ref_.get(); }

  private:
    detail::ContextRef ref_;
};

/// What ContextVar::set() returns, to undo that set() with reset(). Python: contextvars.Token.
template <class T>
class Token {
  public:
    /// The variable this token belongs to.
    const ContextVar<T>& var() const noexcept { return *var_; }
    /// The value before set(), or nullopt if it had none (Python: Token.MISSING).
    std::optional<T> old_value() const {
        if (!old_) return std::nullopt;
        return *static_cast<const T*>(old_.get());
    }

  private:
    friend class ContextVar<T>;
    Token(const ContextVar<T>* var, std::shared_ptr<const void> old)
        : var_(var), owner_(detail::context_owner()), old_(std::move(old)) {}
    const ContextVar<T>* var_;
    const void* owner_;  // whose context set() changed (a task, a Context.run, the thread)
    std::shared_ptr<const void> old_;
    std::shared_ptr<bool> used_ = std::make_shared<bool>(false);
};

/// A context variable holding a T. Python: contextvars.ContextVar.
///
/// Declare it once (a global or a long-lived object, as in Python: its address is its
/// identity) and get()/set() it from any task. The variable must outlive every use.
/// Errors: get() without a value and without a default throws LookupError (the name in the
/// message); reset() with a token of another variable, one already used, or one made in
/// another context throws std::invalid_argument (Python: ValueError).
template <class T>
class ContextVar {
  public:
    explicit ContextVar(std::string name) : name_(std::move(name)) {}
    ContextVar(std::string name, T default_value)
        : name_(std::move(name)), default_(std::move(default_value)) {}
    ContextVar(const ContextVar&) = delete;
    ContextVar& operator=(const ContextVar&) = delete;

    const std::string& name() const noexcept { return name_; }

    /// The value in the current context, else the variable's default.
    T get() const {
        if (auto* v = detail::context_find(detail::current_context(), this))
            return *static_cast<const T*>(v->get());
        if (default_) return *default_;
        throw LookupError("ContextVar '" + name_ + "' has no value");
    }
    /// The value in the current context, else `fallback` (Python: get(default)).
    T get(T fallback) const {
        if (auto* v = detail::context_find(detail::current_context(), this))
            return *static_cast<const T*>(v->get());
        return fallback;
    }

    /// Sets the value in the current context; the token undoes it.
    Token<T> set(T value) const {
        detail::ContextData* cur = detail::current_context();
        std::shared_ptr<const void> old;
        if (auto* v = detail::context_find(cur, this)) old = *v;
        detail::ContextData* next =
            detail::context_with(cur, this, std::make_shared<const T>(std::move(value)));
        detail::replace_current_context(next);  // takes the one reference
        return Token<T>(this, std::move(old));
    }

    /// Restores the value the variable had before the set() that made `token`.
    void reset(const Token<T>& token) const {
        if (token.var_ != this)
            throw std::invalid_argument("Token was created by a different ContextVar");
        if (*token.used_) throw RuntimeError("Token has already been used once");
        if (token.owner_ != detail::context_owner())
            throw std::invalid_argument("Token was created in a different Context");
        *token.used_ = true;
        detail::replace_current_context(
            detail::context_with(detail::current_context(), this, token.old_));
    }

  private:
    std::string name_;
    std::optional<T> default_;
};

/// A copy of the current context. Python: contextvars.copy_context().
inline Context copy_context() { return Context(detail::current_context_ref()); }

}  // namespace asyncio
