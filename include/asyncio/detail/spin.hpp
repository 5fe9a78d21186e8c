// Spinning a moment before sleeping: the hint that tells the CPU a spin-wait loop runs.
#pragma once

namespace asyncio::detail {

/// One iteration of a spin-wait: lets the sibling hyperthread run and saves power.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

}  // namespace asyncio::detail
