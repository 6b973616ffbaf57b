// OpenSSL's ticket-key callback over a shared keyring.
#include "net/ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <tuple>

#include "crypto/algorithm.h"
#include "crypto/signature.h"

namespace vouchsafe::net {
namespace {

int keyring_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// RFC 5077 §4's recommended construction, as OpenSSL implements it: the
// ticket is AES-256-CBC encrypted and HMAC-SHA-256 authenticated.
bool init_with(const TicketKey& key, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
               bool encrypt) {
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(mac, key.hmac.data(), key.hmac.size(), params) != 1) return false;
  return EVP_CipherInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv,
                           encrypt ? 1 : 0) == 1;
}

void wipe(TicketKey& key) {
  OPENSSL_cleanse(&key, sizeof key);
}

}  // namespace

// The callback OpenSSL calls to seal (enc = 1) and to open (enc = 0) a
// ticket; see SSL_CTX_set_tlsext_ticket_key_evp_cb(3).
struct TicketCallback {
  static int call(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                  EVP_MAC_CTX* mac, int enc) {
    const auto* ring = static_cast<const TicketKeyring*>(
        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keyring_index()));
    if (ring == nullptr) return -1;
    if (enc == 1) {
      auto key = ring->newest();
      if (!key) return 0;  // no key yet: no ticket
      if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
      std::memcpy(key_name, key->name.data(), key->name.size());
      const bool ready = init_with(*key, iv, cipher, mac, true);
      wipe(*key);
      return ready ? 1 : -1;
    }
    auto found = ring->find(key_name);
    if (!found) return 0;  // an unknown or dropped key: a full handshake
    const bool ready = init_with(found->first, iv, cipher, mac, false);
    wipe(found->first);
    if (!ready) return -1;
    // 2: valid, but sealed with an older key; OpenSSL issues a fresh ticket.
    return found->second ? 2 : 1;
  }
};

Result<TicketKey> TicketKey::from_material(ByteView material) {
  if (material.size() != k_material_size) {
    return fail(ErrorCode::invalid_value, "a session-ticket key is " +
                                              std::to_string(k_material_size) + " bytes, not " +
                                              std::to_string(material.size()));
  }
  TicketKey key;
  std::copy_n(material.begin(), key.name.size(), key.name.begin());
  std::copy_n(material.begin() + 16, key.aes.size(), key.aes.begin());
  std::copy_n(material.begin() + 48, key.hmac.size(), key.hmac.begin());
  return key;
}

namespace {

// Domain-separated, so the GnuTLS master is no key OpenSSL also uses;
// nullopt (no GnuTLS tickets rather than a weak key) if hashing fails.
std::optional<TicketKeyring::GnuTlsMaster> gnutls_master_of(const TicketKey& key) {
  static constexpr std::string_view k_label = "vouchsafe gnutls session-ticket master";
  Bytes input(k_label.begin(), k_label.end());
  input.insert(input.end(), key.name.begin(), key.name.end());
  input.insert(input.end(), key.aes.begin(), key.aes.end());
  input.insert(input.end(), key.hmac.begin(), key.hmac.end());
  auto digest = crypto::digest_bytes(crypto::sha512_digest(), input);
  OPENSSL_cleanse(input.data(), input.size());
  std::optional<TicketKeyring::GnuTlsMaster> master;
  if (digest && digest->size() == std::tuple_size_v<TicketKeyring::GnuTlsMaster>) {
    master.emplace();
    std::copy(digest->begin(), digest->end(), master->begin());
  }
  if (digest) OPENSSL_cleanse(digest->data(), digest->size());
  return master;
}

}  // namespace

void TicketKeyring::replace(std::vector<TicketKey> keys) {
  std::optional<GnuTlsMaster> master;
  if (!keys.empty()) master = gnutls_master_of(keys.front());
  const std::lock_guard lock(mutex_);
  for (auto& old : keys_) wipe(old);
  if (gnutls_master_) OPENSSL_cleanse(gnutls_master_->data(), gnutls_master_->size());
  keys_ = std::move(keys);
  gnutls_master_ = master;
  if (master) OPENSSL_cleanse(master->data(), master->size());
}

bool TicketKeyring::gnutls_master(GnuTlsMaster& out) const {
  const std::lock_guard lock(mutex_);
  if (!gnutls_master_) return false;
  out = *gnutls_master_;
  return true;
}

std::size_t TicketKeyring::size() const {
  const std::lock_guard lock(mutex_);
  return keys_.size();
}

void TicketKeyring::install(SSL_CTX* ctx) const {
  SSL_CTX_set_ex_data(ctx, keyring_index(), const_cast<TicketKeyring*>(this));
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &TicketCallback::call);
}

std::optional<TicketKey> TicketKeyring::newest() const {
  const std::lock_guard lock(mutex_);
  if (keys_.empty()) return std::nullopt;
  return keys_.front();
}

std::optional<std::pair<TicketKey, bool>> TicketKeyring::find(const std::uint8_t* name) const {
  const std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (std::memcmp(keys_[i].name.data(), name, keys_[i].name.size()) == 0) {
      return std::make_pair(keys_[i], i != 0);
    }
  }
  return std::nullopt;
}

}  // namespace vouchsafe::net
