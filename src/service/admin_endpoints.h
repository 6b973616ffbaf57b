// The admin listener every service runs on loopback: /healthz (the process
// answers), /readyz (it can do its work now) and /metrics (Prometheus).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "net/http_message.h"
#include "net/metrics.h"

namespace vouchsafe::service {

// One condition of readiness: `what` names it in the 503's reason (for
// example "store not writable"), `check` says whether it holds.
struct ReadinessCheck {
  std::string what;
  std::function<Status()> check;
};

// GET or HEAD only; anything else 405, unknown paths 404.
net::Handler admin_handler(std::vector<ReadinessCheck> readiness,
                           std::shared_ptr<net::MetricsRegistry> metrics);

}  // namespace vouchsafe::service
