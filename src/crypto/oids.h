// OBJECT IDENTIFIER contents octets of the identifiers the PKI, the
// certificate reader and the CMS code read or write, written out once.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "core/bytes.h"

namespace vouchsafe::crypto::oid {

template <std::size_t N>
using Oid = std::array<std::uint8_t, N>;

// Whether an OBJECT IDENTIFIER's contents are this one.
inline bool is(ByteView contents, ByteView oid) {
  return std::ranges::equal(contents, oid);
}

// X.520 attributes: 2.5.4.3 commonName, .5 serialNumber, .10 organizationName,
// .11 organizationalUnitName.
inline constexpr Oid<3> at_common_name = {0x55, 0x04, 0x03};
inline constexpr Oid<3> at_serial_number = {0x55, 0x04, 0x05};
inline constexpr Oid<3> at_organization = {0x55, 0x04, 0x0A};
inline constexpr Oid<3> at_organizational_unit = {0x55, 0x04, 0x0B};

// RFC 5280 §4.2.1 certificate extensions, 2.5.29.x.
inline constexpr Oid<3> ce_subject_key_identifier = {0x55, 0x1D, 0x0E};    // .14
inline constexpr Oid<3> ce_key_usage = {0x55, 0x1D, 0x0F};                 // .15
inline constexpr Oid<3> ce_subject_alt_name = {0x55, 0x1D, 0x11};          // .17
inline constexpr Oid<3> ce_basic_constraints = {0x55, 0x1D, 0x13};         // .19
inline constexpr Oid<3> ce_authority_key_identifier = {0x55, 0x1D, 0x23};  // .35
inline constexpr Oid<3> ce_ext_key_usage = {0x55, 0x1D, 0x25};             // .37

// RFC 8995 §2.3.2 id-pe-masa-url 1.3.6.1.5.5.7.1.32; RFC 4108 §5
// id-on-hardwareModuleName 1.3.6.1.5.5.7.8.4.
inline constexpr Oid<8> pe_masa_url = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x20};
inline constexpr Oid<8> on_hardware_module_name = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04};

// RFC 5480: id-ecPublicKey 1.2.840.10045.2.1; prime256v1 1.2.840.10045.3.1.7,
// secp384r1 1.3.132.0.34, secp521r1 1.3.132.0.35.
inline constexpr Oid<7> ec_public_key = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};
inline constexpr Oid<8> prime256v1 = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
inline constexpr Oid<5> secp384r1 = {0x2B, 0x81, 0x04, 0x00, 0x22};
inline constexpr Oid<5> secp521r1 = {0x2B, 0x81, 0x04, 0x00, 0x23};

// RFC 5758 §3.2 ecdsa-with-SHA256/384/512 1.2.840.10045.4.3.2/.3/.4;
// RFC 8410 §3 id-Ed25519 1.3.101.112.
inline constexpr Oid<8> ecdsa_with_sha256 = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};
inline constexpr Oid<8> ecdsa_with_sha384 = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03};
inline constexpr Oid<8> ecdsa_with_sha512 = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x04};
inline constexpr Oid<3> ed25519 = {0x2B, 0x65, 0x70};

// The enrolling voucher's LDevID extension (docs/enrolling-voucher.md): the
// certified key was co-generated (Z = X + Y) and no proof of possession was
// made. Under 2.25 (ITU-T X.667: an OID from a UUID, no registration), UUID
// 687fcfd6-bb5d-4f29-8669-f3a926e5508d; the value is NULL.
inline constexpr Oid<20> vs_cogenerated_key = {0x69, 0x81, 0xD0, 0xFF, 0xE7, 0xF5, 0xD7,
                                               0xB5, 0xEA, 0xBC, 0xD3, 0x86, 0xB4, 0xFC,
                                               0xF5, 0x92, 0xB7, 0x95, 0xA1, 0x0D};
inline constexpr std::string_view vs_cogenerated_key_text =
    "2.25.138903348734266408609935191872698142861";

}  // namespace vouchsafe::crypto::oid
