// The pledge's IDevID key and certificate, from each place a device holds
// them: a key file (PEM, possibly encrypted), the PKCS#12 bundle `idevid
// issue --generate` writes, the 256-bit seed a silicon vendor provisioned
// (the factory's derivation, docs/seed-derivation.md), or DICE (the seed
// combined with the firmware's hash).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/handles.h"
#include "crypto/secret.h"

namespace vouchsafe::pledge {

struct PledgeIdentity {
  crypto::PkeyPtr key;
  std::vector<crypto::X509Ptr> chain;  // the IDevID first, then CA certificates it came with
  std::string serial;                  // the IDevID's subject serialNumber
};

// Every constructor checks that the key is the IDevID's and reads the
// serial number; bad_key otherwise.
Result<PledgeIdentity> identity_from_key(crypto::PkeyPtr key, std::vector<crypto::X509Ptr> chain);

// A PEM or DER key file and the IDevID (with any chain) in PEM or DER.
Result<PledgeIdentity> identity_from_files(const std::string& certificate_path,
                                           const std::string& key_path,
                                           const std::optional<std::string>& passphrase);

// A PKCS#12 bundle: key, IDevID and the issuing CA. A wrong passphrase is
// bad_passphrase; absurd PBKDF2 counts are refused before any work.
Result<PledgeIdentity> identity_from_pkcs12(ByteView bundle, const std::string& passphrase);

// The seed for `serial` from a seeds file's text ("SERIAL,HEX" lines, as
// the factory reads them) or a lone 64-hex-digit seed.
Result<crypto::SecretBytes> seed_for(std::string_view text, const std::string& serial);

// The key derived from the seed as the factory derived it
// (crypto::derive_p256_key); with firmware, from the DICE CDI of the seed
// and SHA-256(firmware) (crypto::dice_cdi), as `idevid batch --firmware`.
Result<PledgeIdentity> identity_from_seed(std::vector<crypto::X509Ptr> chain, ByteView seed,
                                          const std::optional<Bytes>& firmware = std::nullopt);

}  // namespace vouchsafe::pledge
