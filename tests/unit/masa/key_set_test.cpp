// Which MASA key signs a device's voucher, per key architecture.
#include "masa/key_set.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"

namespace vouchsafe::masa {
namespace {

MasaKey key(const std::string& id) {
  auto signer = crypto::SoftwareSigner::create(crypto::generate_key(crypto::KeyType::p256));
  return MasaKey{id, std::shared_ptr<const crypto::Signer>(std::move(signer).value()), {}};
}

store::DeviceRecord device(const std::string& product, const std::string& key_id = {}) {
  store::DeviceRecord d;
  d.serial = "WG-F1-00000001";
  d.product = product;
  d.masa_key_id = key_id;
  return d;
}

std::map<std::string, MasaKey> keys(std::initializer_list<const char*> ids) {
  std::map<std::string, MasaKey> out;
  for (const char* id : ids) out.emplace(id, key(id));
  return out;
}

TEST(KeySet, OfflineCaAndIdevidRootSignWithTheDefaultKey) {
  for (const auto arch : {KeyArchitecture::offline_ca, KeyArchitecture::idevid_root}) {
    const KeySet set(arch, keys({"default", "widget"}));
    auto k = set.for_device(device("widget", "widget-1"));
    ASSERT_TRUE(k);
    EXPECT_EQ((*k)->id, "default");
    EXPECT_FALSE(set.bare_cose());
  }
}

TEST(KeySet, PerProductSignsWithTheProductsKeyAndNeverAnother) {
  const KeySet set(KeyArchitecture::per_product, keys({"default", "widget", "gadget"}));
  EXPECT_EQ((*set.for_device(device("widget")))->id, "widget");
  EXPECT_EQ((*set.for_device(device("gadget")))->id, "gadget");
  // A product without a key gets no voucher rather than one it cannot verify.
  auto none = set.for_device(device("sprocket"));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("[masa_keys.sprocket]"), std::string::npos);
}

TEST(KeySet, RotatingSignsWithTheKeyTheDeviceIsBoundTo) {
  const KeySet set(KeyArchitecture::rotating, keys({"default", "widget-0", "widget-1", "gadget"}));
  EXPECT_TRUE(set.bare_cose());
  EXPECT_EQ((*set.for_device(device("widget", "widget-1")))->id, "widget-1");
  EXPECT_EQ((*set.for_device(device("widget", "widget-0")))->id, "widget-0");
  // Unbound devices: their product's key, else the default.
  EXPECT_EQ((*set.for_device(device("gadget")))->id, "gadget");
  EXPECT_EQ((*set.for_device(device("sprocket")))->id, "default");
  EXPECT_FALSE(set.for_device(device("widget", "widget-7")));
}

TEST(KeySet, TheNewestSignerRecordOfEachScopeIsActive) {
  std::vector<store::MasaSignerRecord> records = {
      {1, "", "a", "", 0}, {2, "widget", "b", "", 0}, {3, "", "c", "", 0}};
  const auto active = active_signers(records);
  ASSERT_EQ(active.size(), 2U);
  EXPECT_EQ(active.at("").key_reference, "c");
  EXPECT_EQ(active.at("widget").key_reference, "b");
}

TEST(KeyRing, ARequestKeepsTheSetItStartedWith) {
  KeyRing ring(std::make_shared<const KeySet>(KeyArchitecture::offline_ca, keys({"default"})));
  const auto held = ring.current();
  const auto* before = held->keys().at("default").signer.get();
  ring.replace(std::make_shared<const KeySet>(KeyArchitecture::offline_ca, keys({"default"})));
  EXPECT_EQ(held->keys().at("default").signer.get(), before);
  EXPECT_NE(ring.current()->keys().at("default").signer.get(), before);
}

TEST(KeyArchitecture, NamesRoundTrip) {
  for (const auto a : {KeyArchitecture::offline_ca, KeyArchitecture::per_product,
                       KeyArchitecture::idevid_root, KeyArchitecture::rotating}) {
    EXPECT_EQ(*parse_key_architecture(key_architecture_name(a)), a);
  }
  EXPECT_FALSE(parse_key_architecture("per_product"));
}

}  // namespace
}  // namespace vouchsafe::masa
