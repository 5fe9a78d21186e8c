// The execution context behind context variables (Python's contextvars.Context), as the core
// sees it: an immutable, reference-counted list of (variable, value) pairs.
//
// A context is never modified once shared: setting a variable makes a new ContextData for
// the owner of the current context (the running task, or the thread outside tasks). A task
// captures the context current when it is created, so a child's changes never reach the
// parent. The contextvars module builds ContextVar<T> on this. Reference counts are atomic:
// to_thread() carries a context to a worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace asyncio::detail {

struct ContextData {
    std::atomic<std::uint32_t> refs{1};
    /// (variable identity, value) pairs; values are shared and never mutated.
    std::vector<std::pair<const void*, std::shared_ptr<const void>>> values;

    void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
};

/// The context of the code running now in this thread (nullptr: the empty context).
ContextData* current_context() noexcept;
/// Replaces the current context (of the running task, or of the thread outside tasks);
/// takes ownership of one reference of `ctx` (which may be nullptr).
/// Errors: std::bad_alloc (the reference is released, the context unchanged).
void replace_current_context(ContextData* ctx);

/// While alive, `ctx` is the current context of this thread, whoever runs (Context.run):
/// variables set meanwhile change this scope's context only.
class ContextScope {
  public:
    explicit ContextScope(ContextData* ctx) noexcept;
    ~ContextScope();
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;
    /// The scope's context as it is now (with what was set inside); a new reference.
    ContextData* get() const noexcept {
        if (ctx_) ctx_->add_ref();
        return ctx_;
    }

  private:
    ContextData* ctx_;
    ContextData** saved_override_;
};

/// Owning pointer to a ContextData (nullptr: the empty context).
class ContextRef {
  public:
    ContextRef() noexcept = default;
    explicit ContextRef(ContextData* adopt) noexcept : p_(adopt) {}
    ContextRef(const ContextRef& o) noexcept : p_(o.p_) {
        if (p_) p_->add_ref();
    }
    ContextRef(ContextRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    ContextRef& operator=(ContextRef o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~ContextRef() {
        if (p_) p_->release();
    }
    ContextData* get() const noexcept { return p_; }
    ContextData* release() noexcept { return std::exchange(p_, nullptr); }

  private:
    ContextData* p_ = nullptr;
};

/// The current context, as a new reference.
inline ContextRef current_context_ref() noexcept {
    ContextData* c = current_context();
    if (c) c->add_ref();
    return ContextRef(c);
}

/// The value stored for `var` in `ctx`, or null.
inline const std::shared_ptr<const void>* context_find(ContextData* ctx, const void* var) noexcept {
    if (!ctx) return nullptr;
    for (auto& kv : ctx->values)
        if (kv.first == var) return &kv.second;
    return nullptr;
}

}  // namespace asyncio::detail
