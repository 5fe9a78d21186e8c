// What the I/O poller hands the loop for each ready fd.
#pragma once

namespace asyncio::detail {

/// What the poller reports for one fd (see src/backend/poller.hpp).
struct IoEvent {
    int fd;
    bool readable;
    bool writable;
};

}  // namespace asyncio::detail
