// Session-ticket keys as the asset store keeps them: sealed under a secret
// every instance of the MASA holds and the store does not, so that a copy
// of the store (a backup, a dump, a replica, pages not yet vacuumed) does
// not hand out keys that open tickets, or forge them: a forged ticket
// resumes a session as whichever registrar it names, without that
// registrar's key.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/key_reference.h"
#include "crypto/secret.h"

namespace vouchsafe::service {

class TicketSeal {
 public:
  virtual ~TicketSeal() = default;
  // The slot's key material as the store keeps it. The slot is bound in:
  // a row copied to another slot does not open.
  [[nodiscard]] virtual Result<Bytes> seal(std::int64_t slot, ByteView material) const = 0;
  // The material back; bad_passphrase when the row was sealed under
  // another secret, for another slot, or altered; invalid_value when it is
  // not a row this seal writes.
  [[nodiscard]] virtual Result<crypto::SecretBytes> open(std::int64_t slot,
                                                         ByteView sealed) const = 0;
  // What the secret is, for messages: "the MASA passphrase".
  [[nodiscard]] virtual std::string describe() const = 0;
};

// Under the MASA's passphrase (the one its key files are encrypted under):
// scrypt (N = 2^15, r = 8, p = 1: 32 MiB, about 0.1 s) with a salt of its
// own per row, then AES-256-GCM. An instance derives once per row it has
// not opened before (TicketRotation keeps what it opened), about once an
// hour.
std::unique_ptr<TicketSeal> passphrase_ticket_seal(std::string passphrase);

// The label of the token key that seals them for a MASA whose keys are on
// a token.
inline constexpr const char* k_ticket_seal_label = "vouchsafe-ticket-seal";

// Under an AES-256 key on the token the URI names (label
// k_ticket_seal_label, made there on first use, never leaving it), with
// AES-GCM on the token: no secret off the token opens a row.
Result<std::unique_ptr<TicketSeal>> token_ticket_seal(const crypto::Pkcs11Uri& token);

}  // namespace vouchsafe::service
