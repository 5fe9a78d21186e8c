#include "asyncio/contextvars.hpp"

namespace asyncio::detail {

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
