// Helpers shared by the seed examples: print values the way the Python scenarios print them,
// the scenarios' exception types, and their stable exception-handler report.
#pragma once

#include <asyncio/asyncio.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// Python's built-in exceptions that the scenarios raise (the type name is what prints).
struct Exception : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct EOFError : std::runtime_error {
    EOFError() : std::runtime_error("") {}
    using std::runtime_error::runtime_error;
};
struct NameError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct ValueError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};
struct ZeroDivisionError : std::runtime_error {
    ZeroDivisionError() : std::runtime_error("division by zero") {}
    using std::runtime_error::runtime_error;
};

namespace seed {

/// Python's repr() of a float: the shortest text that reads back the same, "2.0" not "2".
inline std::string py(double v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".eninf") == std::string::npos) s += ".0";
    return s;
}
inline std::string py(int v) { return std::to_string(v); }
inline std::string py(long v) { return std::to_string(v); }
inline std::string py(long long v) { return std::to_string(v); }
inline std::string py(const std::string& s) { return s; }
inline std::string py(const char* s) { return s; }

/// An exception as "TypeName: message" (just "TypeName" when the message is empty).
inline std::string fmt(const std::exception_ptr& e) { return asyncio::describe_exception(e); }

/// Python's "%.1f" of the seconds elapsed since `start`.
inline std::string elapsed(std::chrono::steady_clock::time_point start) {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", s);
    return buf;
}

/// The scenarios' exception handler: prints the message's words up to the first containing
/// "(" or "<", then the exception, then logs as usual (to stderr).
inline void handler(asyncio::EventLoop& loop, const asyncio::ExceptionContext& ctx) {
    std::istringstream words(ctx.message);
    std::string w, out = "handler:";
    while (words >> w) {
        if (w.find('(') != std::string::npos || w.find('<') != std::string::npos) break;
        out += ' ';
        out += w;
    }
    if (ctx.exception) {
        out += ' ';
        out += fmt(ctx.exception);
    }
    std::cout << out << std::endl;
    loop.default_exception_handler(ctx);
}

/// print(*args) with Python's separator.
template <class... A>
void print(const A&... a) {
    std::string out;
    ((out += (out.empty() ? "" : " "), out += py(a)), ...);
    std::cout << out << std::endl;
}

}  // namespace seed
