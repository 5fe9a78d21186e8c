// A value that counts its constructions, copies, moves and destructions (cppcoro's counted):
// combinator tests use it to prove no value is copied, leaked or destroyed twice.
#pragma once

#include <gtest/gtest.h>

namespace asyncio::testing {

struct Counted {
    static inline int default_constructed = 0;
    static inline int copied = 0;
    static inline int moved = 0;
    static inline int destroyed = 0;
    static void reset() { default_constructed = copied = moved = destroyed = 0; }
    static int alive() { return default_constructed + copied + moved - destroyed; }

    int id = 0;
    Counted() { ++default_constructed; }
    explicit Counted(int i) : id(i) { ++default_constructed; }
    Counted(const Counted& o) : id(o.id) { ++copied; }
    Counted(Counted&& o) noexcept : id(o.id) { ++moved; }
    Counted& operator=(const Counted&) = default;
    Counted& operator=(Counted&&) = default;
    ~Counted() { ++destroyed; }
};

}  // namespace asyncio::testing
