// The pledge's side of the enrolling voucher (docs/enrolling-voucher.md):
// a voucher that arrived as a file is checked as any voucher is, then the
// owner's share y is opened with the device's key x, z = x + y is made and
// checked against the LDevID the voucher carries. No connection is needed.
#pragma once

#include <ctime>
#include <set>

#include "core/bytes.h"
#include "crypto/handles.h"
#include "pledge/bootstrap.h"
#include "pledge/identity.h"
#include "voucher/model.h"

namespace vouchsafe::pledge {

struct AppliedVoucher {
  voucher::Voucher payload;
  crypto::X509Ptr pinned_domain_cert;  // the domain's anchor from now on
  crypto::PkeyPtr ldevid_key;          // z: never leaves the device
  crypto::X509Ptr ldevid;              // for Z = X + Y, issued by the domain
};

// The voucher must be nonceless and unexpired (it answers no request of
// this device), carry the enrolling extension for this device's own key,
// and pin a certificate the LDevID chains to; the LDevID names this device
// and marks its key as co-generated; zG must be the LDevID's key.
PledgeOutcome<AppliedVoucher> apply_enrolling_voucher(
    ByteView voucher_file, const PledgeIdentity& identity, const MasaTrust& masa, std::time_t now,
    const std::set<voucher::Assertion>& accepted = {
        voucher::Assertion::verified, voucher::Assertion::logged, voucher::Assertion::proximity});

}  // namespace vouchsafe::pledge
