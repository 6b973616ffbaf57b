// A throw-away SoftHSM2 token for tests: a configuration and token directory
// of the test process's own (SOFTHSM2_CONF is set for the process and its
// children), one token per label, initialised with softhsm2-util.
#pragma once

#include <string>

#include "core/result.h"
#include "crypto/key_reference.h"

namespace vouchsafe::testing {

// Debian 12's SoftHSM2 module (package libsofthsm2).
inline constexpr const char* k_softhsm_module = "/usr/lib/softhsm/libsofthsm2.so";

struct TestToken {
  std::string label;
  std::string pin;
  std::string pin_file;  // the PIN's file, named by the URI's pin-source
  // pkcs11:token=LABEL?module-path=...&pin-source=file:...: a key store.
  crypto::Pkcs11Uri store;
  [[nodiscard]] std::string store_text() const { return crypto::format_pkcs11_uri(store); }
};

// A fresh token labelled `label` (made unique per call) in the process's
// SoftHSM2 directory, which is made on first use and removed at exit.
// Fails when softhsm2-util or the module is missing (scripts/setup installs them).
Result<TestToken> make_test_token(const std::string& label);

// The SoftHSM2 configuration file the process uses.
const std::string& softhsm_conf();

}  // namespace vouchsafe::testing
