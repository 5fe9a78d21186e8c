// Seconds: how every delay and timeout of the library is given.
#pragma once

#include <chrono>
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

}  // namespace asyncio
