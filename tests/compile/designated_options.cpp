// Compile check, nothing to run: the keyword-argument structs of the networking API take
// designated initialisers that name only some members, without a warning under -Wextra.
// -Wmissing-field-initializers warns for every member left out that has no default member
// initialiser; tests/CMakeLists.txt builds this file with that warning as an error.
// Each struct is written naming its last member only (all the others left out) and one in
// the middle.
#include <asyncio/asyncio.hpp>

namespace {

[[maybe_unused]] void networking_options_take_partial_designated_initialisers() {
    using namespace asyncio;
    [[maybe_unused]] ConnectionOptions c1{.all_errors = true};
    [[maybe_unused]] ConnectionOptions c2{.happy_eyeballs_delay = 0.25, .interleave = 2};
    [[maybe_unused]] ServerOptions s1{.start_serving = false};
    [[maybe_unused]] ServerOptions s2{.backlog = 10, .reuse_port = true};
    [[maybe_unused]] UnixServerOptions u1{.cleanup_socket = false};
    [[maybe_unused]] UnixServerOptions u2{.backlog = 10};
    [[maybe_unused]] DatagramOptions d1{.allow_broadcast = true};
    [[maybe_unused]] DatagramOptions d2{.local_addr = HostPort{"127.0.0.1", 0}};
    [[maybe_unused]] OpenConnectionOptions o1{.all_errors = true};
    [[maybe_unused]] OpenConnectionOptions o2{.limit = 1024, .happy_eyeballs_delay = 0.25};
    [[maybe_unused]] StartServerOptions ss1{.start_serving = false};
    [[maybe_unused]] StartServerOptions ss2{.limit = 1024, .reuse_port = true};
    [[maybe_unused]] StartUnixServerOptions su1{.cleanup_socket = false};
    [[maybe_unused]] StartUnixServerOptions su2{.limit = 1024, .backlog = 10};
    [[maybe_unused]] AddrInfoOptions a1{.flags = 0};
    [[maybe_unused]] StreamReaderOptions r1{.limit = 1024};
}

}  // namespace
