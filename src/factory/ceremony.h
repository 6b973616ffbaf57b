// Key ceremonies (masa-considerations §2.2, §3): an offline key - the root
// CA's, or a MASA CA's - split k-of-n among officers with Shamir sharing,
// each share in a file of its own encrypted to its holder's passphrase, and
// rebuilt in memory only for the operation that needs it. The share-file
// format and its KDF are in docs/key-ceremony.md.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/sealed_box.h"
#include "crypto/secret.h"
#include "crypto/signer.h"

namespace vouchsafe::factory {

// One share file as read (parse_share_file) and written.
struct ShareFile {
  std::string key_name;         // "root", "masa-ca"
  std::string key_fingerprint;  // hex SHA-256 of the key's SubjectPublicKeyInfo
  std::string split_id;         // hex, 16 random bytes: which split the share is from
  unsigned index = 0;           // 1..shares
  unsigned threshold = 0;
  unsigned shares = 0;
  crypto::SealedBox sealed;  // the share's bytes under the holder's passphrase
};

// Longest share file read: a P-384 PKCS#8 key's share is under 200 bytes.
inline constexpr std::size_t k_max_share_file = std::size_t{16} * 1024;

// Parses and checks a share file (untrusted input: bounded, strict JSON,
// every field typed and ranged, the checksum verified). invalid_value
// names what is wrong; a checksum mismatch says the file is corrupted.
Result<ShareFile> parse_share_file(ByteView data);
std::string share_file_text(const ShareFile& share);

struct SplitOptions {
  std::string key_name;  // "root" or "masa-ca", written into each share
  unsigned shares = 7;
  unsigned threshold = 4;
  std::vector<std::string> holder_passphrases;  // one per share, each 8 characters or more
  std::string out_dir;                          // share-<key>-<index>.json files, 0600
  crypto::ScryptCost cost;                      // tests lower it
};

struct SplitOutcome {
  std::string split_id;
  std::vector<std::string> paths;
};

// Splits a private key (PKCS#8 DER) into share files. If any file cannot
// be written, those written are removed.
Result<SplitOutcome> split_key(ByteView pkcs8_der, EVP_PKEY* public_key,
                               const SplitOptions& options);

// A key as PKCS#8 DER, for splitting; wiped when it goes.
Result<crypto::SecretBytes> pkcs8_der(EVP_PKEY* key);

struct ShareInput {
  std::string path;
  std::string passphrase;  // its holder's
};

// Rebuilds the key from share files, in memory only. Refuses, naming the
// file: a corrupted share, one from another split or of another key, a
// repeated index, a wrong passphrase; and fewer shares than the threshold
// (before any is decrypted). `expected_key`, when not empty, must be the
// shares' key_name.
Result<std::shared_ptr<const crypto::Signer>> recover_key(const std::vector<ShareInput>& inputs,
                                                          const std::string& expected_key);

}  // namespace vouchsafe::factory
