// Names of functions and types for debug reports (CPython: asyncio/format_helpers.py).
//
// A callback or coroutine is named after the symbol of its code address: dladdr() knows the
// exported symbols; the others (static functions, a coroutine's resume function, any symbol
// of an executable linked without -rdynamic) come from the object's own symbol table, read
// once per object by symbol_name() (src/frames.cpp, which names Task::get_stack()'s frames the
// same way). Only reports call this, so none of it is on a hot path.
#include <dlfcn.h>

#include <cstdio>
#include <string>
#include <typeinfo>

#include "asyncio/detail/frames.hpp"
#include "asyncio/events.hpp"

namespace asyncio::detail {

std::string function_name(const void* fn) {
    Dl_info info{};
    if (::dladdr(fn, &info) && info.dli_sname) return qualified_name(info.dli_sname);
    if (std::string name = symbol_name(fn); !name.empty()) return name;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", fn);
    return buf;
}

std::string type_name(const std::type_info& type) { return demangled_type_name(type.name()); }

}  // namespace asyncio::detail
