// The exceptions of asyncio, in C++.
//
// Python's exception tree is reproduced where it matters to control flow: CancelledError,
// KeyboardInterrupt and SystemExit are BaseExceptions in Python, so here they do NOT derive
// from std::exception and `catch (const std::exception&)` never swallows them. Everything else
// derives from std::exception (ValueError is std::invalid_argument, as API.md pins).
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncio {

/// Raised at the `co_await` of a task whose cancel() was called.
///
/// Not a std::exception (Python: a BaseException since 3.8). Carries the optional message
/// given to cancel(msg).
/// Python: asyncio.CancelledError; `args` is `()` or `(msg,)`, here `message()`.
class CancelledError {
  public:
    CancelledError() = default;
    explicit CancelledError(std::optional<std::string> msg) : msg_(std::move(msg)) {}

    /// The message passed to cancel(), if any.
    const std::optional<std::string>& message() const noexcept { return msg_; }
    /// The message, or "" when there is none (for printing).
    const char* what() const noexcept { return msg_ ? msg_->c_str() : ""; }

  private:
    std::optional<std::string> msg_;
};

/// Python's KeyboardInterrupt: a BaseException that escapes the loop. `run()` raises it when
/// SIGINT cancelled the main task.
class KeyboardInterrupt {
  public:
    const char* what() const noexcept { return "KeyboardInterrupt"; }
};

/// Python's SystemExit: a BaseException that a task stores and that also escapes the loop.
class SystemExit {
  public:
    explicit SystemExit(int code = 0) : code_(code) {}
    int code() const noexcept { return code_; }
    const char* what() const noexcept { return "SystemExit"; }

  private:
    int code_;
};

/// Python's RuntimeError: misuse (no running loop, loop closed, wrong loop, ...).
class RuntimeError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The operation exceeded its deadline. Python: TimeoutError (builtin since 3.11).
class TimeoutError : public std::runtime_error {
  public:
    TimeoutError() : std::runtime_error("") {}
    using std::runtime_error::runtime_error;
};

/// The future is in the wrong state for the operation (result() of a pending future,
/// set_result() twice). Python: asyncio.InvalidStateError.
class InvalidStateError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// get_nowait() on an empty queue. Python: asyncio.QueueEmpty.
class QueueEmpty : public std::runtime_error {
  public:
    QueueEmpty() : std::runtime_error("") {}
    using std::runtime_error::runtime_error;
};

/// put_nowait() on a full queue. Python: asyncio.QueueFull.
class QueueFull : public std::runtime_error {
  public:
    QueueFull() : std::runtime_error("") {}
    using std::runtime_error::runtime_error;
};

/// Put or get on a queue that was shut down. Python: asyncio.QueueShutDown (3.13).
class QueueShutDown : public std::runtime_error {
  public:
    QueueShutDown() : std::runtime_error("Queue is shut down") {}
    using std::runtime_error::runtime_error;
};

/// Waiting on a barrier that was reset or aborted. Python: asyncio.BrokenBarrierError.
class BrokenBarrierError : public std::runtime_error {
  public:
    BrokenBarrierError() : std::runtime_error("Barrier aborted") {}
    using std::runtime_error::runtime_error;
};

/// EOF reached before the requested bytes. Python: asyncio.IncompleteReadError.
class IncompleteReadError : public std::runtime_error {
  public:
    IncompleteReadError(std::string partial, std::optional<std::size_t> expected)
        : std::runtime_error(make_message(partial.size(), expected)),
          partial(std::move(partial)),
          expected(expected) {}

    std::string partial;                  ///< the bytes read before EOF
    std::optional<std::size_t> expected;  ///< total expected, or nullopt (readuntil)

  private:
    static std::string make_message(std::size_t got, std::optional<std::size_t> expected) {
        return std::to_string(got) + " bytes read on a total of " +
               (expected ? std::to_string(*expected) : std::string("undefined")) +
               " expected bytes";
    }
};

/// The separator was not found within the stream's limit. Python: asyncio.LimitOverrunError.
class LimitOverrunError : public std::runtime_error {
  public:
    LimitOverrunError(const std::string& msg, std::size_t consumed)
        : std::runtime_error(msg), consumed(consumed) {}
    std::size_t consumed;  ///< bytes to consume to get past the overrun
};

/// Several exceptions raised together (TaskGroup). Python: ExceptionGroup.
///
/// Holds every std::exception_ptr in the order they were collected; what() lists them.
class ExceptionGroup : public std::runtime_error {
  public:
    ExceptionGroup(const std::string& message, std::vector<std::exception_ptr> exceptions);

    /// The message given at construction (Python: eg.message).
    const std::string& message() const noexcept { return message_; }
    /// Every exception in the group (Python: eg.exceptions).
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

    /// Splits the group by exception type: {the exceptions that are an E, the rest}, each a
    /// group with this group's message, or nullopt when empty. Nested groups are split
    /// recursively and keep their nesting. Python: eg.split(E).
    template <class E>
    std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> split() const;

  private:
    std::string message_;
    std::vector<std::exception_ptr> exceptions_;
};

template <class E>
std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> ExceptionGroup::split()
    const {
    if constexpr (std::is_base_of_v<E, ExceptionGroup>) {
        return {*this, std::nullopt};
    } else if (dynamic_cast<const E*>(this)) {
        return {*this, std::nullopt};
    }
    std::vector<std::exception_ptr> match, rest;
    for (const auto& e : exceptions_) {
        try {
            std::rethrow_exception(e);
        } catch (const ExceptionGroup& g) {
            auto [m, r] = g.template split<E>();
            if (m)
                match.push_back(m->exceptions_.size() == g.exceptions_.size() && !r
                                    ? e
                                    : std::make_exception_ptr(std::move(*m)));
            if (r)
                rest.push_back(r->exceptions_.size() == g.exceptions_.size() && !m
                                   ? e
                                   : std::make_exception_ptr(std::move(*r)));
        } catch (const E&) {
            match.push_back(e);
        } catch (...) {
            rest.push_back(e);
        }
    }
    std::optional<ExceptionGroup> m, r;
    if (!match.empty()) m.emplace(message_, std::move(match));
    if (!rest.empty()) r.emplace(message_, std::move(rest));
    return {std::move(m), std::move(r)};
}

/// Python's `except* E`: calls `handler(group)` with the part of `error` that is an E (a bare
/// E counts as a group of one) and returns the rest (null when nothing is left), for the
/// caller to rethrow. `error` that holds neither is returned unchanged.
template <class E, class Handler>
std::exception_ptr except_star(std::exception_ptr error, Handler&& handler) {
    if (!error) return error;
    try {
        std::rethrow_exception(error);
    } catch (const ExceptionGroup& g) {
        auto [m, r] = g.template split<E>();
        if (m) handler(static_cast<const ExceptionGroup&>(*m));
        return r ? std::make_exception_ptr(std::move(*r)) : std::exception_ptr();
    } catch (const E&) {
        handler(ExceptionGroup("", {error}));
        return nullptr;
    } catch (...) {
        return error;
    }
}

/// "TypeName: message" for an exception (just "TypeName" when the message is empty), with
/// the demangled C++ type name. Used by the default exception handler and by reports.
std::string describe_exception(const std::exception_ptr& e);

/// The demangled type name of the exception held by `e` ("" for a null pointer).
std::string exception_type_name(const std::exception_ptr& e);

/// The message of the exception held by `e`: what() for std::exception and the asyncio
/// BaseException-like types, "" otherwise.
std::string exception_message(const std::exception_ptr& e);

/// True when `e` holds a CancelledError.
bool is_cancelled_error(const std::exception_ptr& e) noexcept;

}  // namespace asyncio
