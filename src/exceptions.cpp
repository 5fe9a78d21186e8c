#include "asyncio/exceptions.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include "asyncio/detail/time.hpp"

namespace asyncio {

namespace {
std::string summarise(const std::string& message, const std::vector<std::exception_ptr>& excs) {
    std::string s = message + " (" + std::to_string(excs.size()) + " sub-exception" +
                    (excs.size() == 1 ? "" : "s") + ")";
    for (const auto& e : excs) s += "\n  " + describe_exception(e);
    return s;
}
}  // namespace

ExceptionGroup::ExceptionGroup(const std::string& message, std::vector<std::exception_ptr> excs)
    : std::runtime_error(summarise(message, excs)),
      message_(message),
      exceptions_(std::move(excs)) {}

std::string exception_type_name(const std::exception_ptr& e) {
    if (!e) return {};
    try {
        std::rethrow_exception(e);
    } catch (...) {
        const std::type_info* ti = abi::__cxa_current_exception_type();
        if (!ti) return "unknown";
        int status = 0;
        std::unique_ptr<char, void (*)(void*)> name(
            abi::__cxa_demangle(ti->name(), nullptr, nullptr, &status), std::free);
        std::string full = status == 0 && name ? name.get() : ti->name();
        // asyncio's own types print as Python prints them: "CancelledError", not
        // "asyncio::CancelledError".
        if (full.rfind("asyncio::", 0) == 0 && full.find("::", 9) == std::string::npos)
            return full.substr(9);
        return full;
    }
}

std::string exception_message(const std::exception_ptr& e) {
    if (!e) return {};
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (const CancelledError& x) {
        return x.what();
    } catch (const KeyboardInterrupt&) {
        return {};
    } catch (const SystemExit& x) {
        return x.code() ? std::to_string(x.code()) : std::string();
    } catch (...) {
        return {};
    }
}

std::string describe_exception(const std::exception_ptr& e) {
    if (!e) return "None";
    std::string type = exception_type_name(e);
    std::string msg = exception_message(e);
    return msg.empty() ? type : type + ": " + msg;
}

bool is_cancelled_error(const std::exception_ptr& e) noexcept {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

namespace detail {
void throw_nan_delay(const char* what) {
    throw std::invalid_argument(std::string(what) + ": delay is NaN");
}
}  // namespace detail

}  // namespace asyncio
