// The async call graph: who awaits whom, from a task or future up to the tasks that wait for
// it (Python 3.14's asyncio.graph), and the whole loop's tree of tasks ("pstree").
//
// A task's own chain of suspended frames is its call stack; the futures and tasks waiting for
// it are found from its done callbacks: a task awaiting it (co_await task), a gather, a
// wait(), a shield, a TaskGroup (whose tasks are awaited by the group's parent task). Nothing
// is recorded while the program runs: the graph is read from the live state when asked, so
// it costs nothing until then.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "asyncio/tasks.hpp"

namespace asyncio {

/// One frame of a call stack. Python: asyncio.FrameCallGraphEntry.
struct FrameCallGraphEntry {
    FrameInfo frame;
};

/// A future (or task), its call stack (newest frame first, as Python) and the graphs of
/// those awaiting it. Python: asyncio.FutureCallGraph.
struct FutureCallGraph {
    AnyFuture future;
    std::vector<FrameCallGraphEntry> call_stack;
    std::vector<FutureCallGraph> awaited_by;
};

/// The call graph of `future`. Python: asyncio.capture_call_graph(future).
/// For the task that is running, the stack is its own coroutine only (a running chain is
/// not recorded).
FutureCallGraph capture_call_graph(const AnyFuture& future, CallGraphOptions options = {});
/// The call graph of the current task, or nullopt outside a task.
/// Errors: RuntimeError without a running loop. Python: asyncio.capture_call_graph().
std::optional<FutureCallGraph> capture_call_graph(CallGraphOptions options = {});

/// The graph as text, in Python 3.14's layout:
///
///     * Task(name='leaf', id=0x...)
///       + Call stack:
///       |   async app::level3()
///       + Awaited by:
///           * Task(name='main', id=0x...)
///             + Call stack:
///             |   async app::main()
///
/// A frame prints as Python's "File '...', line N, in async f()" where its location is
/// known, else as "async f()" (this build knows none: see FrameInfo).
/// Python: asyncio.format_call_graph(future, limit=).
std::string format_call_graph(const AnyFuture& future, CallGraphOptions options = {});
/// The same text for a graph already captured.
std::string format_call_graph(const FutureCallGraph& graph, bool ids = true);
/// Prints format_call_graph(future) and a newline to `file`.
/// Python: asyncio.print_call_graph(future, file=, limit=).
void print_call_graph(const AnyFuture& future, std::FILE* file = stdout,
                      CallGraphOptions options = {});

}  // namespace asyncio
