// The transport-free request and response the HTTPS server hands to and
// takes from its handler.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"

namespace vouchsafe::net {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string content_type;
  std::string accept;
  Bytes body;
  // Hex SHA-256 of the client certificate's DER: who is calling. Empty when
  // the listener does not ask for a certificate.
  std::string client_fingerprint;
  Bytes client_certificate_der;
  std::vector<Bytes> client_chain_der;  // the certificates the client sent after its own
  std::string remote_address;           // "ip:port", for logs
};

// Every member has a default so that aggregate initialisations naming the
// first few stay complete as members are added.
struct HttpResponse {
  int status = 200;
  std::string content_type{};
  Bytes body{};
  std::vector<std::pair<std::string, std::string>> headers{};  // extra headers, e.g. Retry-After
  // For the refusal log only, never sent: the service's name for the error
  // (e.g. "rvr_signature_invalid"), when the status alone does not say.
  std::string log_error{};
};

inline constexpr std::string_view k_text_plain = "text/plain; charset=utf-8";

// A plain-text response, the form every error response takes.
inline HttpResponse text_response(int status, std::string_view text) {
  return HttpResponse{status, std::string(k_text_plain), to_bytes(text), {}};
}

// Called on the server's worker threads, possibly on several at once: a
// handler must be thread-safe.
using Handler = std::function<HttpResponse(const HttpRequest&)>;

// Hands a response back to the server, from any thread. The first call
// counts; if every copy is dropped unanswered the client gets a 500.
using Respond = std::function<void(HttpResponse)>;
// A handler that answers later, so that a worker thread need not wait
// (e.g. for a disk sync) before it serves the next request.
using AsyncHandler = std::function<void(const HttpRequest&, Respond)>;

}  // namespace vouchsafe::net
