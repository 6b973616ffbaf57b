// AES-GCM sealing with a key on a throw-away SoftHSM2 token: what one
// process seals another opens, the key never shows its value, and a text
// altered or sealed for another purpose does not open.
#include <gtest/gtest.h>
#include <openssl/rand.h>

#include <array>

#include "crypto/pkcs11/sealing_key.h"
#include "support/softhsm.h"

namespace vouchsafe::crypto::pkcs11 {
namespace {

using vouchsafe::testing::make_test_token;

const std::string k_label = "sealing-test";

class SealingKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto token = make_test_token("sealing");
    ASSERT_TRUE(token) << token.error().message;
    uri_ = token->store;
  }

  // The secret keys labelled k_label on the token, as handles.
  static std::vector<CK_OBJECT_HANDLE> keys_on_token(Token& token, Token::Session& session) {
    auto found = token.find_objects(session, CKO_SECRET_KEY, k_label, std::nullopt, 8, "keys");
    EXPECT_TRUE(found);
    return found ? *found : std::vector<CK_OBJECT_HANDLE>{};
  }

  Pkcs11Uri uri_;
};

const Bytes k_secret(80, 0x3c);
const Bytes k_aad = to_bytes("slot 42");

TEST_F(SealingKeyTest, WhatOneProcessSealsAnotherOpensWithTheSameTokenKey) {
  auto first = SealingKey::open_or_make(uri_, k_label);
  ASSERT_TRUE(first) << first.error().message;
  const auto sealed = (*first)->seal(k_secret, k_aad);
  ASSERT_TRUE(sealed) << sealed.error().message;
  EXPECT_EQ(sealed->size(), 8 + 12 + k_secret.size() + 16);
  EXPECT_EQ(std::search(sealed->begin(), sealed->end(), k_secret.begin(), k_secret.begin() + 16),
            sealed->end());

  auto second = SealingKey::open_or_make(uri_, k_label);  // finds the key, makes none
  ASSERT_TRUE(second) << second.error().message;
  const auto opened = (*second)->open(*sealed, k_aad);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_TRUE(std::ranges::equal(opened->view(), k_secret));

  auto token = Token::open(uri_);
  ASSERT_TRUE(token);
  auto session = (*token)->session();
  ASSERT_TRUE(session);
  const auto keys = keys_on_token(**token, *session);
  ASSERT_EQ(keys.size(), 1U);
  // The token never shows the key's value, nor lets it be wrapped out.
  const auto value = (*token)->attribute(*session, keys.front(), CKA_VALUE);
  ASSERT_TRUE(value);
  EXPECT_FALSE(*value);
  const auto extractable = (*token)->attribute(*session, keys.front(), CKA_EXTRACTABLE);
  ASSERT_TRUE(extractable && *extractable);
  EXPECT_EQ((**extractable)[0], CK_FALSE);
}

TEST_F(SealingKeyTest, ATextAlteredOrForAnotherPurposeDoesNotOpen) {
  auto key = SealingKey::open_or_make(uri_, k_label);
  ASSERT_TRUE(key) << key.error().message;
  const auto sealed = *(*key)->seal(k_secret, k_aad);
  EXPECT_EQ((*key)->open(sealed, to_bytes("slot 43")).error().code, ErrorCode::bad_passphrase);
  Bytes altered = sealed;
  altered[30] ^= 1U;
  EXPECT_EQ((*key)->open(altered, k_aad).error().code, ErrorCode::bad_passphrase);
  EXPECT_EQ((*key)->open(ByteView(sealed).first(36), k_aad).error().code, ErrorCode::invalid_value);
  Bytes unknown_id = sealed;
  unknown_id[0] ^= 1U;
  EXPECT_EQ((*key)->open(unknown_id, k_aad).error().code, ErrorCode::bad_key);
}

TEST_F(SealingKeyTest, ProcessesThatMadeAKeyEachAtOnceStillOpenEachOthersTexts) {
  // Two processes found no key and made one each: the first holds its own.
  auto first = SealingKey::open_or_make(uri_, k_label);
  ASSERT_TRUE(first) << first.error().message;
  const auto by_first = *(*first)->seal(k_secret, k_aad);
  {
    auto token = Token::open(uri_);
    ASSERT_TRUE(token);
    auto session = (*token)->session();
    ASSERT_TRUE(session);
    Bytes id(8);
    ASSERT_EQ(RAND_bytes(id.data(), 8), 1);
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL no = CK_FALSE;
    CK_ULONG length = 32;
    std::string label = k_label;
    std::array<CK_ATTRIBUTE, 8> key_template{{{CKA_VALUE_LEN, &length, sizeof length},
                                              {CKA_TOKEN, &yes, sizeof yes},
                                              {CKA_PRIVATE, &yes, sizeof yes},
                                              {CKA_SENSITIVE, &yes, sizeof yes},
                                              {CKA_EXTRACTABLE, &no, sizeof no},
                                              {CKA_ENCRYPT, &yes, sizeof yes},
                                              {CKA_DECRYPT, &yes, sizeof yes},
                                              {CKA_LABEL, label.data(), label.size()}}};
    std::array<CK_ATTRIBUTE, 9> with_id{};
    std::copy(key_template.begin(), key_template.end(), with_id.begin());
    with_id.back() = {CKA_ID, id.data(), id.size()};
    CK_MECHANISM mechanism{CKM_AES_KEY_GEN, nullptr, 0};
    CK_OBJECT_HANDLE made = CK_INVALID_HANDLE;
    ASSERT_EQ((*token)->functions()->C_GenerateKey(session->handle(), &mechanism, with_id.data(),
                                                   with_id.size(), &made),
              CKR_OK);
    ASSERT_EQ(keys_on_token(**token, *session).size(), 2U);
  }
  // A process started now seals with one of the two; each process opens
  // what the other sealed, whichever key sealed it.
  auto later = SealingKey::open_or_make(uri_, k_label);
  ASSERT_TRUE(later) << later.error().message;
  const auto by_later = *(*later)->seal(k_secret, k_aad);
  EXPECT_TRUE((*later)->open(by_first, k_aad));
  EXPECT_TRUE((*first)->open(by_later, k_aad));
}

}  // namespace
}  // namespace vouchsafe::crypto::pkcs11
