// How the registrar reaches a MASA: an interface, so that the registrar
// stays transport-free. service/masa_client.h holds the HTTPS
// implementation (the registrar's TLS client certificate, the MASA's CA
// from the configuration); tests hand in a MasaService directly.
#pragma once

#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::registrar {

struct MasaPost {
  // The MASA's base URL, "https://authority" (RFC 8995 §2.3.2: the IDevID
  // names the authority, the path is /.well-known/brski/).
  std::string base_url;
  std::string endpoint;  // "requestvoucher" or "requestauditlog"
  std::string content_type;
  std::string accept;
  Bytes body;
};

struct MasaReply {
  int status = 0;
  std::string content_type;
  Bytes body;
};

class MasaClient {
 public:
  virtual ~MasaClient() = default;
  // Posts and returns the MASA's answer, whatever its status. A transport
  // failure (connection, TLS, timeout) is an io_error with the reason.
  // Thread-safe: the registrar calls it from many requests at once.
  virtual Result<MasaReply> post(const MasaPost& request) = 0;
};

}  // namespace vouchsafe::registrar
