// Build-time switches of asyncio-cpp. Only this header and target compile definitions define
// ASYNCIO_ macros.
#pragma once

// ASYNCIO_FRAME_POOL: 1 (default) serves coroutine frames, tasks and futures from per-thread
// recycling size-class pools; 0 uses plain operator new (sanitizer builds set 0 so that every
// use-after-free is seen).
#ifndef ASYNCIO_FRAME_POOL
#define ASYNCIO_FRAME_POOL 1
#endif
