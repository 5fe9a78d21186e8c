// Transports: the loop's side of a connection, which a protocol writes to. Python:
// asyncio.transports.
//
// The split is CPython's: BaseTransport (close, is_closing, extra info), ReadTransport
// (pause/resume reading), WriteTransport (write with a buffer and water marks), Transport (both:
// a stream connection) and DatagramTransport (sendto). The loop makes transports
// (create_connection, create_server, connect_read_pipe...) and hands them out as
// std::shared_ptr; the protocol gets a reference in connection_made(), valid until its
// connection_lost() has returned. The classes are interfaces: the epoll backend implements
// them over non-blocking fds (readiness), and a completion backend (io_uring) implements the
// same methods over submitted operations (docs/design/networking.md); TLS is a protocol over
// a Transport that presents itself as a Transport to the application protocol.
// Everything here runs on the loop's thread.
#pragma once

#include <any>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncio/protocols.hpp"
#include "asyncio/sockets.hpp"

namespace asyncio {

class EventLoop;

/// What every transport has. Python: asyncio.BaseTransport.
///
/// Transports are made with std::make_shared (shared_from_this() gives the owning pointer:
/// StreamWriter and TLS keep the transport they were given in connection_made()).
class BaseTransport : public std::enable_shared_from_this<BaseTransport> {
  public:
    virtual ~BaseTransport() = default;
    BaseTransport() = default;
    BaseTransport(const BaseTransport&) = delete;
    BaseTransport& operator=(const BaseTransport&) = delete;

    /// Closes: buffered data is still written, then the protocol's connection_lost(nullptr)
    /// is called in a later iteration. Idempotent.
    virtual void close() = 0;
    /// Closing or closed.
    virtual bool is_closing() const noexcept = 0;
    /// "peername", "sockname" (SockAddr), "socket" (int fd), "pipe" (int fd), ...; else
    /// `default_value`. Python: get_extra_info(name, default=None).
    virtual std::any get_extra_info(const std::string& name, std::any default_value = {}) const = 0;
    /// Replaces the protocol (the old one gets no more callbacks). Python: set_protocol.
    virtual void set_protocol(std::shared_ptr<BaseProtocol> protocol) = 0;
    virtual std::shared_ptr<BaseProtocol> get_protocol() const = 0;
    /// The loop the transport belongs to.
    virtual EventLoop& get_loop() const noexcept = 0;
};

/// The reading side. Python: asyncio.ReadTransport.
class ReadTransport : public virtual BaseTransport {
  public:
    /// Whether data_received is being called (not paused, not closing).
    virtual bool is_reading() const noexcept = 0;
    /// Stops data_received until resume_reading(); idempotent. Data that arrives meanwhile
    /// stays in the kernel and is delivered after the resume.
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
};

/// The writing side. Python: asyncio.WriteTransport.
class WriteTransport : public virtual BaseTransport {
  public:
    /// Sends what the kernel takes now and buffers the rest (never blocks). After the
    /// connection is lost the data is dropped (a warning is logged from the fifth such write).
    /// Errors: RuntimeError after write_eof().
    virtual void write(std::string_view data) = 0;
    virtual void writelines(const std::vector<std::string>& list) {
        for (const auto& s : list) write(s);
    }
    /// Writes the pieces in order, as one write() of their concatenation would, without
    /// joining them first: a socket transport with nothing buffered hands them to the kernel
    /// in one sendmsg() (CPython 3.12's writelines does too), and buffers only what the
    /// kernel did not take. Python: writelines(list_of_data).
    virtual void writelines(std::span<const std::string_view> pieces) {
        for (std::string_view s : pieces) write(s);
    }
    /// Closes the write side once the buffer is flushed (SHUT_WR on a socket).
    virtual void write_eof() = 0;
    virtual bool can_write_eof() const noexcept = 0;
    /// Closes at once: the buffer is dropped; connection_lost(nullptr) follows.
    virtual void abort() = 0;
    /// Water marks of the write buffer: pause_writing() above `high`, resume_writing() at or
    /// below `low`. Defaults: high 64 KiB; low = high / 4 (when only low is given, high =
    /// 4 × low). Errors: std::invalid_argument when low > high.
    virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                         std::optional<std::size_t> low = std::nullopt) = 0;
    /// Bytes buffered, not yet taken by the kernel.
    virtual std::size_t get_write_buffer_size() const noexcept = 0;
    /// (low, high). Python: get_write_buffer_limits().
    virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept = 0;
};

/// A stream connection (TCP, Unix socket, pipe). Python: asyncio.Transport.
class Transport : public ReadTransport, public WriteTransport {};

/// A datagram endpoint. Python: asyncio.DatagramTransport.
class DatagramTransport : public virtual BaseTransport {
  public:
    /// Sends one datagram to `addr` (empty: the connected remote address). Buffered when the
    /// kernel cannot take it now. Errors: std::invalid_argument for an address other than
    /// the remote one on a connected endpoint.
    virtual void sendto(std::string_view data, const SockAddr& addr = SockAddr()) = 0;
    /// Closes at once, dropping what is buffered.
    virtual void abort() = 0;
    virtual std::size_t get_write_buffer_size() const noexcept = 0;
    virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                         std::optional<std::size_t> low = std::nullopt) = 0;
    virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept = 0;
};

}  // namespace asyncio
