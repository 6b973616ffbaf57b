// BRSKI-PRM agent-proximity (draft-ietf-anima-brski-prm-23, the MASA's part;
// SPEC.md §4): a pledge in responder mode never talks to the registrar; a
// registrar-agent carries its request, and the proximity the MASA asserts
// is the agent's. In place of RFC 8995 §5.5.5 the MASA checks what the
// agent signed and that agent and registrar belong to one domain.
#pragma once

#include <ctime>

#include "masa/detail/outcome.h"
#include "masa/detail/request_validation.h"
#include "masa/detail/trust_cache.h"
#include "voucher/model.h"

namespace vouchsafe::masa::detail {

// Whether the pledge's request is a PRM one: it carries agent-signed-data
// or asks for the agent-proximity assertion.
bool asks_agent_proximity(const voucher::Voucher& pvr);

// agent-signed-data is a JWS over {created-on, serial-number} that verifies
// with the agent-sign-cert (from the registrar's request) whose
// SubjectKeyIdentifier its kid names; its serial-number is the pledge's;
// the agent certificate and the agent-provided-proximity-registrar-cert
// both chain to the domain anchor that verified the registrar's request.
// Each forgery is refused with its own error; success asserts
// agent-proximity.
Outcome<voucher::Assertion> check_agent_proximity(const RegistrarRequest& rvr,
                                                  const PledgeRequest& pvr, std::time_t now,
                                                  TrustCache& cache);

}  // namespace vouchsafe::masa::detail
