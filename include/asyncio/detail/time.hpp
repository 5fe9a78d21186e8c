// Delays in the loop's units: Seconds (seconds.hpp) to nanoseconds, and "never".
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "asyncio/seconds.hpp"

namespace asyncio::detail {

inline constexpr std::int64_t never_ns = std::numeric_limits<std::int64_t>::max();

/// Throws std::invalid_argument("<what>: delay is NaN"). Out of line: the string work stays
/// out of every inlined sleep() (and out of GCC 12's -Wstringop-overflow false positives).
[[noreturn]] void throw_nan_delay(const char* what);

/// Seconds → nanoseconds for a relative delay: NaN is an error naming `what`, +inf is never,
/// anything ≤ 0 is 0.
inline std::int64_t delay_to_ns(Seconds s, const char* what) {
    double v = s.count();
    if (std::isnan(v)) throw_nan_delay(what);
    if (v <= 0) return 0;
    if (v >= 9.2e9) return never_ns;
    auto ns = static_cast<std::int64_t>(std::llround(v * 1e9));
    return ns < 1 ? 1 : ns;
}

}  // namespace asyncio::detail
