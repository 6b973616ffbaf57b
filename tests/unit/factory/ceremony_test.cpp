// Share files and the split / recover ceremony, with cheap scrypt costs.
#include "factory/ceremony.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/file.h"
#include "crypto/key_reference.h"
#include "crypto/keys.h"

namespace vouchsafe::factory {
namespace {

namespace fs = std::filesystem;

class CeremonyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vs-ceremony-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    key_ = crypto::generate_key(crypto::KeyType::p384);
    auto der = pkcs8_der(key_.get());
    ASSERT_TRUE(der);
    SplitOptions o;
    o.key_name = "root";
    o.shares = 5;
    o.threshold = 3;
    for (int i = 0; i < 5; ++i) o.holder_passphrases.push_back("holder-" + std::to_string(i + 1));
    o.out_dir = (dir_ / "shares").string();
    o.cost = {1024, 8, 1};
    auto split = split_key(der->view(), key_.get(), o);
    ASSERT_TRUE(split) << split.error().message;
    paths_ = split->paths;
  }
  void TearDown() override { fs::remove_all(dir_); }
  ShareInput input(int i) {
    return {paths_[static_cast<std::size_t>(i)], "holder-" + std::to_string(i + 1)};
  }

  fs::path dir_;
  crypto::PkeyPtr key_;
  std::vector<std::string> paths_;
};

TEST_F(CeremonyTest, AnyThresholdOfSharesRebuildsTheKeyInMemory) {
  auto signer = recover_key({input(4), input(0), input(2)}, "root");
  ASSERT_TRUE(signer) << signer.error().message;
  EXPECT_EQ(EVP_PKEY_eq((*signer)->public_key(), key_.get()), 1);
}

TEST_F(CeremonyTest, FewerThanTheThresholdAreRefusedBeforeAnyIsDecrypted) {
  auto signer = recover_key({input(0), {paths_[1], "not even the right passphrase"}}, "root");
  ASSERT_FALSE(signer);
  EXPECT_NE(signer.error().message.find("2 shares given; the root key needs 3 of its 5"),
            std::string::npos)
      << signer.error().message;
}

TEST_F(CeremonyTest, ASharesFileRoundTrips) {
  auto data = read_file(paths_[0]);
  ASSERT_TRUE(data);
  auto parsed = parse_share_file(*data);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->index, 1U);
  EXPECT_EQ(parsed->threshold, 3U);
  EXPECT_EQ(parsed->key_fingerprint, crypto::key_fingerprint(key_.get()));
  EXPECT_EQ(share_file_text(*parsed), as_text(*data));
}

TEST_F(CeremonyTest, AnEditedIndexWithAFreshChecksumStillDoesNotDecrypt) {
  // The index is bound into the GCM tag: renumbering a share is caught even
  // by someone who recomputes the checksum.
  auto data = read_file(paths_[0]);
  ASSERT_TRUE(data);
  auto j = nlohmann::json::parse(as_text(*data));
  j["index"] = 5;
  j.erase("checksum");
  j["checksum"] = hex_encode(crypto::sha256(as_bytes(j.dump())));
  const auto forged = (dir_ / "forged.json").string();
  ASSERT_TRUE(write_file_atomic(forged, as_bytes(j.dump())));
  auto signer = recover_key({{forged, "holder-1"}, input(1), input(2)}, "root");
  ASSERT_FALSE(signer);
  EXPECT_NE(signer.error().message.find("forged.json"), std::string::npos);
}

TEST(ShareFile, RefusesWhatIsNotAShare) {
  EXPECT_FALSE(parse_share_file(to_bytes("")));
  EXPECT_FALSE(parse_share_file(to_bytes("[]")));
  EXPECT_FALSE(parse_share_file(to_bytes(R"({"format":"something else","version":1})")));
  EXPECT_FALSE(parse_share_file(Bytes(k_max_share_file + 1, ' ')));
  EXPECT_FALSE(parse_share_file(to_bytes(R"({"format":"vouchsafe-key-share","version":1,
      "checksum":"00"})")));
}

}  // namespace
}  // namespace vouchsafe::factory
