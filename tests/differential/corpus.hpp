// Helpers for the differential corpus: print the way the Python programs print.
#pragma once

#include <asyncio/asyncio.hpp>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace corpus {

inline std::string py(bool v) { return v ? "True" : "False"; }
inline std::string py(int v) { return std::to_string(v); }
inline std::string py(long v) { return std::to_string(v); }
inline std::string py(unsigned v) { return std::to_string(v); }
inline std::string py(unsigned long v) { return std::to_string(v); }
inline std::string py(const std::string& s) { return s; }
inline std::string py(const char* s) { return s; }

/// repr() of a string: 'text'.
inline std::string repr(const std::string& s) { return "'" + s + "'"; }

/// A CancelledError's args: () or ('msg',).
inline std::string args(const asyncio::CancelledError& e) {
    return e.message() ? "(" + repr(*e.message()) + ",)" : "()";
}
/// The args of an exception carrying one string message: ('msg',).
inline std::string args(const std::exception& e) { return "(" + repr(e.what()) + ",)"; }

/// repr() of a list of strings: ['a', 'b'].
inline std::string list(const std::vector<std::string>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + repr(v[i]);
    return s + "]";
}

/// print(*args).
template <class... A>
void print(const A&... a) {
    std::string out;
    ((out += (out.empty() ? "" : " "), out += py(a)), ...);
    std::cout << out << std::endl;
}

}  // namespace corpus

// Python's built-in exceptions the programs raise.
struct ValueError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};
struct KeyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct ZeroDivisionError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
