// Helpers for tests that start a real peer process (CPython, a script) and read what it prints.
#pragma once

#include <unistd.h>

#include <string>

#include <asyncio/asyncio.hpp>

namespace asyncio::testing {

/// The Python interpreter peers run under: Debian's /usr/bin/python3 (where python3-aiohttp
/// and python3-httpx are installed) when present, else the first python3 on PATH.
inline std::string python() {
    return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/// The port a peer printed on a line starting with `marker` and ending with ":<port>", read
/// from its stdout within its first 50 lines; -1 when it ended or never printed one.
inline Coro<int> read_port(StreamReader out, std::string marker) {
    for (int i = 0; i < 50; ++i) {
        std::string line = co_await out.readline();
        if (line.empty()) co_return -1;
        if (line.rfind(marker, 0) == 0) co_return std::stoi(line.substr(line.rfind(':') + 1));
    }
    co_return -1;
}

}  // namespace asyncio::testing
