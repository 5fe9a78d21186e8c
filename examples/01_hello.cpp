// The first asyncio program, in C++.
//
//   import asyncio
//
//   async def say_after(delay, what):
//       await asyncio.sleep(delay)
//       print(what)
//
//   async def main():
//       task1 = asyncio.create_task(say_after(0.1, "hello"))
//       task2 = asyncio.create_task(say_after(0.2, "world"))
//       await task1
//       await task2
//
//   asyncio.run(main())
#include <asyncio/asyncio.hpp>
#include <cstdio>
#include <string>

asyncio::Coro<void> say_after(double delay, std::string what) {  // parameters by value
    co_await asyncio::sleep(delay);
    std::printf("%s\n", what.c_str());
}

asyncio::Coro<void> amain() {
    auto task1 = asyncio::create_task(say_after(0.1, "hello"));
    auto task2 = asyncio::create_task(say_after(0.2, "world"));
    co_await task1;
    co_await task2;
}

int main() { asyncio::run(amain()); }
