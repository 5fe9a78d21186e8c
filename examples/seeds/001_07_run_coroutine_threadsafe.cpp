// Seed 001, "asyncio + threads": an event loop runs forever in a second thread; the main
// thread hands it three coroutines with run_coroutine_threadsafe and keeps working (prints
// "iloveu") while they sleep there. They finish shortest first.
#include <thread>

#include "seed_common.hpp"

asyncio::Coro<void> func(double num) {
    seed::print("calling func, takes about " + seed::py(num));
    co_await asyncio::sleep(num);
    seed::print("func finished after " + seed::py(num));
}

void start_loop(asyncio::EventLoop* loop) {
    asyncio::set_event_loop(loop);
    loop->run_forever();
}

int main() {
    auto coroutine1 = func(0.3);
    auto coroutine2 = func(0.2);
    auto coroutine3 = func(0.1);

    auto new_loop = asyncio::new_event_loop();  // created here, started by the other thread
    std::thread t(start_loop, new_loop.get());

    std::vector<asyncio::ConcurrentFuture<void>> futures;
    futures.push_back(asyncio::run_coroutine_threadsafe(std::move(coroutine1), *new_loop));
    futures.push_back(asyncio::run_coroutine_threadsafe(std::move(coroutine2), *new_loop));
    futures.push_back(asyncio::run_coroutine_threadsafe(std::move(coroutine3), *new_loop));
    // Determinism: submissions run in order, so once this sleep(0) has finished the three
    // funcs have all started.
    asyncio::run_coroutine_threadsafe(asyncio::sleep(0), *new_loop).result();

    for (char i : std::string("iloveu")) seed::print(std::string(1, i));  // not blocked

    for (auto& f : futures) f.result();  // wait for them, then stop the loop
    new_loop->call_soon_threadsafe([l = new_loop.get()] { l->stop(); });
    t.join();
    new_loop->close();
    seed::print("loop thread stopped");
}
