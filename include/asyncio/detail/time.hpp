// Time arguments: every delay or timeout accepts double seconds and any std::chrono duration.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace asyncio {

/// A delay or timeout given as `double` seconds (`0.5`) or any chrono duration (`500ms`).
class Seconds {
  public:
    constexpr Seconds(double s) noexcept : s_(s) {}  // NOLINT: implicit on purpose
    template <class Arith, std::enable_if_t<std::is_integral_v<Arith>, int> = 0>
    constexpr Seconds(Arith s) noexcept : s_(static_cast<double>(s)) {}  // NOLINT
    template <class Rep, class Period>
    constexpr Seconds(std::chrono::duration<Rep, Period> d) noexcept  // NOLINT
        : s_(std::chrono::duration<double>(d).count()) {}

    constexpr double count() const noexcept { return s_; }

  private:
    double s_;
};

namespace detail {

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

}  // namespace detail
}  // namespace asyncio
