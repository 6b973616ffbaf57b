// Session-ticket keys that several server instances share (RFC 8446 §4.6.1
// tickets are opaque to the client; any instance holding the key that
// sealed one can resume the session), so that a registrar that returns
// resumes on whichever instance the load balancer picks. The newest key
// seals new tickets; older ones still open theirs until they are dropped.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

using SSL_CTX = struct ssl_ctx_st;

namespace vouchsafe::net {

struct TicketKey {
  std::array<std::uint8_t, 16> name{};  // sent in the ticket, picks the key back
  std::array<std::uint8_t, 32> aes{};   // AES-256-CBC
  std::array<std::uint8_t, 32> hmac{};  // HMAC-SHA-256
  static constexpr std::size_t k_material_size = 80;
  // name || aes || hmac; an error unless exactly k_material_size bytes.
  static Result<TicketKey> from_material(ByteView material);
};

class TicketKeyring {
 public:
  // Newest first; an empty set leaves tickets unissued (full handshakes).
  void replace(std::vector<TicketKey> keys);
  [[nodiscard]] std::size_t size() const;

  // Makes the context seal and open its tickets with this keyring, which
  // must outlive it.
  void install(SSL_CTX* ctx) const;

  // GnuTLS takes one master key per session and derives its ticket keys
  // from it and the time (rotating them itself, the previous one still
  // opening tickets). Its master is a hash of the newest key: instances on
  // the same keys seal and open each other's tickets; when the slot
  // changes, a ticket from the previous one gets a full handshake. False
  // when the ring is empty.
  using GnuTlsMaster = std::array<std::uint8_t, 64>;
  bool gnutls_master(GnuTlsMaster& out) const;

 private:
  friend struct TicketCallback;
  [[nodiscard]] std::optional<TicketKey> newest() const;
  // The key by name, and whether it is not the newest (renew the ticket).
  [[nodiscard]] std::optional<std::pair<TicketKey, bool>> find(const std::uint8_t* name) const;

  mutable std::mutex mutex_;
  std::vector<TicketKey> keys_;
  std::optional<GnuTlsMaster> gnutls_master_;  // of keys_.front()
};

}  // namespace vouchsafe::net
