// Protocols: the callbacks a transport calls as a connection lives. Python: asyncio.protocols.
//
// A protocol is a class the user derives from and overrides; the loop makes one per connection
// with the user's factory (`[] { return std::make_shared<Echo>(); }`) and keeps it alive for as
// long as the transport lives. Callbacks run on the loop's thread, in CPython's order:
// connection_made once, then data_received (or get_buffer/buffer_updated) zero or more times,
// then eof_received at most once, then connection_lost once (with the error that ended the
// connection, or null after a clean close or EOF). pause_writing / resume_writing alternate
// (never twice in a row) as the transport's write buffer crosses its water marks.
// An exception thrown from a callback is a fatal error of the connection: the transport is
// closed and the error reported through the loop's exception handler, as in CPython.
#pragma once

#include <cstddef>
#include <exception>
#include <span>
#include <string_view>

#include "asyncio/sockets.hpp"

namespace asyncio {

class BaseTransport;
class Transport;
class DatagramTransport;

/// What every protocol has. Python: asyncio.BaseProtocol.
class BaseProtocol {
  public:
    virtual ~BaseProtocol() = default;
    /// The connection is gone: `exc` is null after a clean close or EOF, else the error
    /// (std::system_error ECONNRESET for a reset, ...). The transport is closed on return.
    virtual void connection_lost(std::exception_ptr exc) { (void)exc; }
    /// The transport's write buffer went above its high-water mark: stop writing.
    virtual void pause_writing() {}
    /// It is back at or below the low-water mark.
    virtual void resume_writing() {}
};

/// A stream protocol (TCP, Unix sockets, pipes). Python: asyncio.Protocol.
class Protocol : public BaseProtocol {
  public:
    /// Called once when the connection is up; `transport` stays valid until connection_lost()
    /// has returned.
    virtual void connection_made(Transport& transport) { (void)transport; }
    /// Bytes received; `data` is valid only during the call (copy what you keep).
    virtual void data_received(std::string_view data) { (void)data; }
    /// The peer closed its write side. Return true to keep the transport open for writing
    /// (half-close; close it yourself later), false to let the transport close.
    /// Python: eof_received() returning a true value / None.
    virtual bool eof_received() { return false; }
};

/// A stream protocol that receives into its own buffer. Python: asyncio.BufferedProtocol.
///
/// The transport asks get_buffer(sizehint) for room, reads into it, then reports the count with
/// buffer_updated(nbytes). data_received is not called.
class BufferedProtocol : public Protocol {
  public:
    /// A non-empty buffer to read into (sizehint: the recommended size, may be ignored).
    virtual std::span<char> get_buffer(std::size_t sizehint) = 0;
    /// `nbytes` were written at the start of the last buffer returned by get_buffer().
    virtual void buffer_updated(std::size_t nbytes) = 0;

  private:
    void data_received(std::string_view) final {}
};

/// A datagram (UDP, Unix datagram) protocol. Python: asyncio.DatagramProtocol.
class DatagramProtocol : public BaseProtocol {
  public:
    /// Called once when the endpoint is ready; `transport` is valid until connection_lost().
    virtual void connection_made(DatagramTransport& transport) { (void)transport; }
    /// One datagram (`data` valid only during the call) and its sender.
    virtual void datagram_received(std::string_view data, const SockAddr& addr) {
        (void)data;
        (void)addr;
    }
    /// A send or receive failed (ECONNREFUSED on a connected socket after an ICMP error...);
    /// the endpoint stays usable.
    virtual void error_received(std::exception_ptr exc) { (void)exc; }
};

}  // namespace asyncio
