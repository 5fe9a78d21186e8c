// A program that hangs on purpose, and how to see why: two tasks each wait for an item from
// the other's queue, so neither ever puts one. A watchdog timer prints the loop's tasks (what
// each waits on, who awaits whom) and one task's call graph, then cancels the main task so
// the program ends cleanly.
//
// In a real hang, run with debug mode on (asyncio::run(main(), {.debug = true}), or
// ASYNCIO_DEBUG=1) and send the process SIGUSR1 (`kill -USR1 <pid>`): the loop prints the same
// dump to stderr at its next iteration. Python 3.14: `python -m asyncio pstree <pid>`,
// asyncio.print_call_graph(task).
#include <asyncio/asyncio.hpp>
#include <cstdio>

namespace app {

asyncio::Coro<void> pass_on(asyncio::Queue<int>& in, asyncio::Queue<int>& out) {
    int item = co_await in.get();  // each waits for the other: nobody ever puts
    co_await out.put(item + 1);
}

asyncio::Coro<void> main() {
    asyncio::current_task().set_name("main");
    asyncio::Queue<int> a, b;
    auto ping = asyncio::create_task(pass_on(a, b), {.name = "ping"});
    auto pong = asyncio::create_task(pass_on(b, a), {.name = "pong"});
    asyncio::AnyTask me = asyncio::current_task();
    asyncio::get_running_loop().call_later(0.1, [me, ping] {
        std::printf("--- watchdog: the loop's tasks\n");
        // ids=false: the same text on every run (the ids are addresses).
        asyncio::get_running_loop().print_tasks(stdout, {.ids = false});
        std::printf("--- watchdog: the call graph of 'ping'\n");
        asyncio::print_call_graph(ping, stdout, {.ids = false});
        me.cancel("watchdog");
    });
    try {
        co_await asyncio::gather(ping, pong);
    } catch (const asyncio::CancelledError& e) {
        std::printf("--- main cancelled by the %s; ping cancelled: %s\n", e.message()->c_str(),
                    ping.cancelled() ? "yes" : "no");
        throw;
    }
}

}  // namespace app

int main() {
    try {
        asyncio::run(app::main());
    } catch (const asyncio::CancelledError&) {
        std::printf("done\n");
    }
}
