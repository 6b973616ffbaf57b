// One accepted connection: TLS handshake, then HTTP/1.1 requests with
// keep-alive, each checked against the listener's limits before the handler.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "net/detail/server_state.h"

namespace vouchsafe::net::detail {

// Takes over the socket, whose executor must be a strand of its own; the
// connection keeps itself alive through its pending operations.
void serve_connection(std::shared_ptr<ServerState> state, ConnectionTable::Slot slot,
                      boost::asio::ip::tcp::socket socket);

}  // namespace vouchsafe::net::detail
