// How the pledge reaches its registrar: an interface, so that the pledge's
// flow stays transport-free. service/pledge_transport.h holds the HTTPS
// implementation (provisional TLS, RFC 8995 §5.1); tests hand in a
// RegistrarService directly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::pledge {

struct TransportReply {
  int status = 0;
  std::string content_type;
  Bytes body;
};

class RegistrarTransport {
 public:
  virtual ~RegistrarTransport() = default;
  // The registrar's TLS certificate and the chain it sent, leaf first, as
  // the provisional handshake showed them: not validated then (RFC 8995
  // §5.1), since the leaf becomes proximity-registrar-cert and is checked
  // against the voucher's pinned-domain-cert afterwards (§5.6.2).
  [[nodiscard]] virtual std::vector<Bytes> registrar_chain() const = 0;
  // A request on the same TLS session; a transport failure is io_error.
  virtual Result<TransportReply> post(std::string_view path, std::string_view content_type,
                                      std::string_view accept, ByteView body) = 0;
  virtual Result<TransportReply> get(std::string_view path, std::string_view accept) = 0;
};

}  // namespace vouchsafe::pledge
