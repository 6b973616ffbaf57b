// What the two ends of the enrolling voucher (docs/enrolling-voucher.md)
// must agree on beyond the extension's format: the ECIES label and the
// associated data that bind the sealed share to its device and its key.
#pragma once

#include <string_view>

#include "core/bytes.h"

namespace vouchsafe::voucher {

// The ECIES info label of the share y (crypto/ecies.h).
inline constexpr std::string_view k_enrolling_share_label = "vouchsafe enrolling-voucher y v1";

// AAD = serial-number (UTF-8) || Z (65-byte uncompressed point): a share
// opens only for the device and the certificate it was made for.
inline Bytes enrolling_share_aad(std::string_view serial, ByteView z_point) {
  Bytes aad(serial.begin(), serial.end());
  aad.insert(aad.end(), z_point.begin(), z_point.end());
  return aad;
}

}  // namespace vouchsafe::voucher
