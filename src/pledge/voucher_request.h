// The pledge's side of RFC 8995 §3.2/§5.2: the voucher-request a device
// signs with its IDevID key, naming the registrar it sees (proximity).
#pragma once

#include "core/bytes.h"
#include "core/date_time.h"
#include "core/result.h"
#include "voucher/model.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::pledge {

struct PledgeRequestOptions {
  voucher::Form form = voucher::Form::cms;
  std::optional<Bytes> nonce;  // fresh random; none for a nonceless request
  DateTime created_on = now_date_time();
};

// Assertion proximity, the nonce, created-on, the serial-number from the
// IDevID's subject, and the registrar's certificate (CMS, JWS) or public
// key (COSE, as constrained pledges send it), signed by the IDevID.
Result<Bytes> make_pledge_voucher_request(const voucher::SigningIdentity& idevid,
                                          ByteView registrar_certificate_der,
                                          const PledgeRequestOptions& options);

// 16 random bytes, the nonce size RFC 8995's examples use.
Bytes fresh_nonce();

}  // namespace vouchsafe::pledge
