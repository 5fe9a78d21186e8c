#include "asyncio/contextvars.hpp"

#include "asyncio/detail/task_core.hpp"

namespace asyncio::detail {

// The current context: a Context.run scope's, else the running task's, else the thread's.
namespace {
// The context outside tasks; released when the thread exits (a thread that set a variable
// and ended would otherwise leak its context).
struct ThreadContext {
    ContextData* ctx = nullptr;
    ~ThreadContext() {
        if (ctx) ctx->release();
    }
};
thread_local ThreadContext thread_context;
}  // namespace

ContextData* current_context() noexcept {
    if (ContextData** o = tls.context_override) return *o;
    if (TaskCore* t = tls.current_task) return t->context();
    return thread_context.ctx;
}

void replace_current_context(ContextData* ctx) {
    ContextData** slot;
    if (ContextData** o = tls.context_override) {
        slot = o;
    } else if (TaskCore* t = tls.current_task) {
        try {
            slot = &t->context_slot();  // allocates the task's side entry the first time
        } catch (...) {
            if (ctx) ctx->release();
            throw;  // the set() fails visibly: the variable keeps its value
        }
    } else {
        slot = &thread_context.ctx;
    }
    if (*slot) (*slot)->release();
    *slot = ctx;
}

ContextScope::ContextScope(ContextData* ctx) noexcept
    : ctx_(ctx), saved_override_(tls.context_override) {
    if (ctx_) ctx_->add_ref();
    tls.context_override = &ctx_;
}

ContextScope::~ContextScope() {
    tls.context_override = saved_override_;
    if (ctx_) ctx_->release();
}

ContextData* context_with(ContextData* ctx, const void* var, std::shared_ptr<const void> value) {
    auto* next = new ContextData();
    next->refs.store(0, std::memory_order_relaxed);
    if (ctx) {
        next->values.reserve(ctx->values.size() + 1);
        for (auto& kv : ctx->values)
            if (kv.first != var) next->values.push_back(kv);
    }
    if (value) next->values.emplace_back(var, std::move(value));
    if (next->values.empty()) {
        delete next;
        return nullptr;
    }
    next->add_ref();
    return next;
}

}  // namespace asyncio::detail
