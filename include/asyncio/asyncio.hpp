// asyncio-cpp: Python's asyncio in C++20. The umbrella header: the union of the modules.
#pragma once

#include "asyncio/config.hpp"
#include "asyncio/coro.hpp"
#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/tasks.hpp"
