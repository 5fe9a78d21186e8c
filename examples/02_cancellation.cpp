// Cancellation as in Python: cancel() throws CancelledError at the co_await where the task
// waits; cleanup that must await happens after the catch block (C++ forbids co_await inside
// a handler), then the error is rethrown.
//
//   async def worker():
//       try:
//           await asyncio.sleep(3600)
//       except asyncio.CancelledError:
//           await asyncio.sleep(0.1)      # async cleanup
//           print("worker cleaned up")
//           raise
//
//   async def main():
//       t = asyncio.create_task(worker())
//       await asyncio.sleep(0.1)
//       t.cancel("shutting down")
//       try:
//           await t
//       except asyncio.CancelledError as e:
//           print("worker cancelled:", e.args[0])
#include <asyncio/asyncio.hpp>
#include <cstdio>
#include <exception>

asyncio::Coro<void> worker() {
    std::exception_ptr cancelled;
    try {
        co_await asyncio::sleep(3600);
    } catch (const asyncio::CancelledError&) {
        cancelled = std::current_exception();  // no co_await in here: remember, leave
    }
    if (cancelled) {
        co_await asyncio::sleep(0.1);  // async cleanup
        std::printf("worker cleaned up\n");
        std::rethrow_exception(cancelled);
    }
}

asyncio::Coro<void> amain() {
    auto t = asyncio::create_task(worker());
    co_await asyncio::sleep(0.1);
    t.cancel("shutting down");
    try {
        co_await t;
    } catch (const asyncio::CancelledError& e) {
        std::printf("worker cancelled: %s\n", e.what());
    }
}

int main() { asyncio::run(amain()); }
