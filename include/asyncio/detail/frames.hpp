// Naming coroutine frames: what Task::get_stack() and the call graph print for each frame.
//
// A coroutine frame starts with its resume function (GCC and Clang both lay it out so). GCC
// emits that function as a local symbol `<ramp>.Frame.actor`, which the dynamic symbol table
// (dladdr) never holds, so names come from the object's own symbol table (.symtab), read once
// per object on first use. A stripped binary has no such table: frames are then named by
// address.
#pragma once

#include <coroutine>
#include <string>

namespace asyncio::detail {

/// The qualified name of the function containing `code`, without its parameter list, as
/// Python's __qualname__ ("app::level3"); "" when no symbol covers it.
std::string symbol_name(const void* code);
/// A mangled symbol as Python's __qualname__ would name it: demangled, without parameter list
/// or clone suffix, a coroutine's actor named after its function ("app::level3").
std::string qualified_name(const std::string& mangled);
/// A type's demangled name.
std::string demangled_type_name(const char* mangled);
/// The coroutine function a frame belongs to ("app::level3"), or
/// "<coroutine 0x...>" when unknown.
std::string coroutine_name(std::coroutine_handle<> frame);
/// The frame that resumes when `frame` finishes: its awaiter's frame, or null for a task's
/// root. Only for frames of this library's coroutine types (Coro, AsyncGenerator).
std::coroutine_handle<> frame_continuation(std::coroutine_handle<> frame) noexcept;

}  // namespace asyncio::detail
