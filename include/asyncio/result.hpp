// Result<T>: a value or the exception that took its place.
//
// What gather(return_exceptions, ...) yields for each child: Python puts the exception object
// in the result list; C++ needs a type that holds either. A cancelled child appears as a
// Result holding a CancelledError.
#pragma once

#include <exception>
#include <utility>
#include <variant>

#include "asyncio/exceptions.hpp"

namespace asyncio {

/// A value of type T, or the std::exception_ptr that was raised instead.
///
/// Errors: value() rethrows the held exception (CancelledError included).
/// Python: an element of `gather(..., return_exceptions=True)`'s list.
template <class T>
class Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}           // NOLINT: implicit
    Result(std::exception_ptr e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    /// The value; rethrows the exception when there is none.
    T& value() & {
        if (!has_value()) std::rethrow_exception(std::get<1>(v_));
        return std::get<0>(v_);
    }
    const T& value() const& {
        if (!has_value()) std::rethrow_exception(std::get<1>(v_));
        return std::get<0>(v_);
    }
    T&& value() && {
        if (!has_value()) std::rethrow_exception(std::get<1>(v_));
        return std::move(std::get<0>(v_));
    }
    /// The exception, or null when a value is held.
    std::exception_ptr exception() const noexcept {
        return has_value() ? std::exception_ptr() : std::get<1>(v_);
    }

  private:
    std::variant<T, std::exception_ptr> v_;
};

/// Result of a void operation: success or an exception.
template <>
class Result<void> {
  public:
    Result() = default;
    Result(std::exception_ptr e) : e_(std::move(e)) {}  // NOLINT: implicit
    bool has_value() const noexcept { return !e_; }
    explicit operator bool() const noexcept { return has_value(); }
    void value() const {
        if (e_) std::rethrow_exception(e_);
    }
    std::exception_ptr exception() const noexcept { return e_; }

  private:
    std::exception_ptr e_;
};

}  // namespace asyncio
