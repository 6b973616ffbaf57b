// Rate-limit classes of the MASA's clients (issue 9, item 3): a registrar
// whose TLS certificate chains to one of the customer anchors keeps an
// allowance of its own; every other one also draws from one allowance
// shared by all of them, so that a fresh self-signed certificate brings no
// fresh allowance.
#pragma once

#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crypto/handles.h"
#include "crypto/trust_store.h"
#include "net/server_options.h"

namespace vouchsafe::service {

class CustomerClasses {
 public:
  static constexpr std::string_view k_unknown = "unknown-registrars";

  explicit CustomerClasses(const std::vector<crypto::X509Ptr>& anchors);

  // Thread-safe. The verdict is kept per fingerprint for a while, within
  // bounds, so that a returning registrar's path is not validated again.
  net::ClientClass classify(const net::ClientCertificate& client);

 private:
  // Long enough to spare a registrar's reconnections the path validation,
  // short enough that an expired certificate soon loses its class.
  static constexpr std::time_t k_verdict_lifetime = 300;
  static constexpr std::size_t k_max_verdicts = 4096;

  struct Verdict {
    bool known = false;
    std::time_t checked = 0;
  };

  [[nodiscard]] bool chains_to_a_customer(const net::ClientCertificate& client,
                                          std::time_t now) const;

  std::unique_ptr<crypto::TrustStore> customers_;  // null: no known customers
  std::mutex mutex_;
  std::unordered_map<std::string, Verdict> verdicts_;
};

}  // namespace vouchsafe::service
