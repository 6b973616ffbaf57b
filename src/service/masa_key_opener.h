// The MASA's private keys, each opened once per process. A key file costs
// a PBKDF2 derivation of about 0.14 s (crypto::k_pbkdf2_iterations), and a
// rotating-key MASA has one file per product and slot: opened one after
// another they held `masa serve` for seconds at start-up, and every
// rollover's refresh derived them all again. The opener derives the files
// it has not opened yet in parallel, one thread per core, and hands the
// same signer out for a reference from then on, so a refresh opens only
// the new key. A key file replaced in place under the same name is read
// again by a restart, as the settings are.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "crypto/signer.h"

namespace vouchsafe::service {

class MasaKeyOpener {
 public:
  // `passphrase` decrypts the key files (token keys need none).
  explicit MasaKeyOpener(std::optional<std::string> passphrase)
      : passphrase_(std::move(passphrase)) {}

  // Opens the references not opened yet: key files in parallel, token keys
  // one after another (a login, no derivation). On failure, the error of
  // the first reference (in the order given) that did not open; the others
  // stay open.
  Status open(const std::vector<std::string>& references);

  // The signer of a reference, opening it if open() has not.
  Result<std::shared_ptr<const crypto::Signer>> signer(const std::string& reference);

  // How many distinct references are open.
  [[nodiscard]] std::size_t size() const;

 private:
  std::optional<std::string> passphrase_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const crypto::Signer>> opened_;
};

}  // namespace vouchsafe::service
