// Ticket-key rows sealed under the MASA passphrase.
#include "service/ticket_seal.h"

#include <bit>

#include "crypto/pkcs11/sealing_key.h"
#include "crypto/sealed_box.h"

namespace vouchsafe::service {
namespace {

// A row under the passphrase: format 1 (1 byte), log2 N (1), r (1), p (1),
// salt (16), nonce (12), tag (16), then the ciphertext, as long as the
// material. On a token: format 2, then what SealingKey::seal returns.
constexpr std::uint8_t k_passphrase_format = 1;
constexpr std::uint8_t k_token_format = 2;
constexpr std::size_t k_header = 4, k_salt = 16, k_nonce = 12, k_tag = 16;
constexpr std::size_t k_max_material = 256;

const crypto::ScryptCost k_row_cost{std::uint64_t{1} << 15U, 8, 1};

// Binds a row to its slot: the same key under another slot's row fails.
Bytes slot_aad(std::int64_t slot) {
  const std::string text = "vouchsafe tls-ticket-key slot " + std::to_string(slot);
  return {text.begin(), text.end()};
}

class PassphraseSeal final : public TicketSeal {
 public:
  explicit PassphraseSeal(std::string passphrase) : passphrase_(std::move(passphrase)) {}
  ~PassphraseSeal() override { OPENSSL_cleanse(passphrase_.data(), passphrase_.size()); }
  PassphraseSeal(const PassphraseSeal&) = delete;
  PassphraseSeal& operator=(const PassphraseSeal&) = delete;

  [[nodiscard]] Result<Bytes> seal(std::int64_t slot, ByteView material) const override {
    if (material.empty() || material.size() > k_max_material) {
      return fail(ErrorCode::invalid_value,
                  "a session-ticket key of " + std::to_string(material.size()) + " bytes");
    }
    ASSIGN_OR_RETURN(auto box, crypto::seal(material, passphrase_, slot_aad(slot), k_row_cost));
    Bytes row{k_passphrase_format, static_cast<std::uint8_t>(std::countr_zero(box.cost.n)),
              static_cast<std::uint8_t>(box.cost.r), static_cast<std::uint8_t>(box.cost.p)};
    for (const Bytes* part : {&box.salt, &box.nonce, &box.tag, &box.ciphertext}) {
      row.insert(row.end(), part->begin(), part->end());
    }
    return row;
  }

  [[nodiscard]] Result<crypto::SecretBytes> open(std::int64_t slot,
                                                 ByteView sealed) const override {
    constexpr std::size_t fixed = k_header + k_salt + k_nonce + k_tag;
    if (sealed.size() <= fixed || sealed.size() > fixed + k_max_material ||
        sealed[0] != k_passphrase_format || sealed[1] > 63) {
      return fail(ErrorCode::invalid_value, "not a session-ticket key sealed under a passphrase (" +
                                                std::to_string(sealed.size()) + " bytes)");
    }
    crypto::SealedBox box;
    box.cost = {std::uint64_t{1} << sealed[1], sealed[2], sealed[3]};
    // The row comes from the store: its cost is bounded before any is spent,
    // to twice what this version writes.
    if (box.cost.n > 2 * k_row_cost.n || box.cost.r > k_row_cost.r || box.cost.p > k_row_cost.p) {
      return fail(ErrorCode::invalid_value,
                  "a session-ticket key row asks for scrypt N 2^" + std::to_string(sealed[1]) +
                      ", r " + std::to_string(sealed[2]) + ", p " + std::to_string(sealed[3]) +
                      ": more than twice the cost rows are written at");
    }
    TRY(crypto::check_scrypt_cost(box.cost));
    auto at = sealed.begin() + k_header;
    const auto take = [&at](std::size_t n) {
      Bytes out(at, at + static_cast<std::ptrdiff_t>(n));
      at += static_cast<std::ptrdiff_t>(n);
      return out;
    };
    box.salt = take(k_salt);
    box.nonce = take(k_nonce);
    box.tag = take(k_tag);
    box.ciphertext = take(static_cast<std::size_t>(sealed.end() - at));
    return crypto::open_box(box, passphrase_, slot_aad(slot));
  }

  [[nodiscard]] std::string describe() const override { return "the MASA passphrase"; }

 private:
  std::string passphrase_;
};

class TokenSeal final : public TicketSeal {
 public:
  explicit TokenSeal(std::unique_ptr<crypto::pkcs11::SealingKey> key) : key_(std::move(key)) {}

  [[nodiscard]] Result<Bytes> seal(std::int64_t slot, ByteView material) const override {
    ASSIGN_OR_RETURN(auto sealed, key_->seal(material, slot_aad(slot)));
    Bytes row{k_token_format};
    row.insert(row.end(), sealed.begin(), sealed.end());
    return row;
  }

  [[nodiscard]] Result<crypto::SecretBytes> open(std::int64_t slot,
                                                 ByteView sealed) const override {
    if (sealed.empty() || sealed[0] != k_token_format) {
      return fail(ErrorCode::invalid_value, "not a session-ticket key sealed on a token (" +
                                                std::to_string(sealed.size()) + " bytes)");
    }
    return key_->open(sealed.subspan(1), slot_aad(slot));
  }

  [[nodiscard]] std::string describe() const override { return key_->describe(); }

 private:
  std::unique_ptr<crypto::pkcs11::SealingKey> key_;
};

}  // namespace

std::unique_ptr<TicketSeal> passphrase_ticket_seal(std::string passphrase) {
  return std::make_unique<PassphraseSeal>(std::move(passphrase));
}

Result<std::unique_ptr<TicketSeal>> token_ticket_seal(const crypto::Pkcs11Uri& token) {
  ASSIGN_OR_RETURN(auto key, crypto::pkcs11::SealingKey::open_or_make(token, k_ticket_seal_label));
  return std::unique_ptr<TicketSeal>(std::make_unique<TokenSeal>(std::move(key)));
}

}  // namespace vouchsafe::service
