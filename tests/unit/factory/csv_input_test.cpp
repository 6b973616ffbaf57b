// The factory's line-based inputs from other systems (the vendor's seed
// batch, the sales system's owner file, a shipment's serials): what they
// accept, and that a line too long is refused after reading no more than the
// limit of it.
#include <gtest/gtest.h>

#include <sstream>
#include <streambuf>

#include "crypto/keys.h"
#include "factory/owner_import.h"
#include "factory/seed_file.h"
#include "factory/serial_list.h"
#include "support/test_support.h"

namespace vouchsafe::factory {
namespace {

// A stream of `size` copies of one character, counting how many were read.
class CountingBuffer : public std::streambuf {
 public:
  CountingBuffer(char c, std::size_t size) : c_(c), left_(size) {}
  [[nodiscard]] std::size_t consumed() const { return consumed_; }

 protected:
  int_type underflow() override {
    return left_ == 0 ? traits_type::eof() : traits_type::to_int_type(c_);
  }
  int_type uflow() override {
    if (left_ == 0) return traits_type::eof();
    --left_;
    ++consumed_;
    return traits_type::to_int_type(c_);
  }

 private:
  char c_;
  std::size_t left_;
  std::size_t consumed_ = 0;
};

const std::string k_seed(64, 'a');

TEST(SeedFile, ReadsSerialsAndSeedsSkippingCommentsAndBlankLines) {
  std::istringstream in("# vendor lot 17\n\nWG-1, " + k_seed + "\r\n  WG-2 ," + k_seed + "\n");
  SeedFileReader reader(in, "lot.csv");
  auto first = reader.next();
  ASSERT_TRUE(first && *first) << (first ? "" : first.error().message);
  EXPECT_EQ((*first)->serial, "WG-1");
  EXPECT_EQ((*first)->line, 3);
  EXPECT_EQ((*first)->seed.view().size(), 32U);
  auto second = reader.next();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->serial, "WG-2");
  auto end = reader.next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(SeedFile, RefusesShortOrNonHexSeedsNamingTheLine) {
  std::istringstream short_seed("WG-1,abcd\n");
  auto r = SeedFileReader(short_seed, "lot.csv").next();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("lot.csv:1: the seed must be 64 hex digits"), std::string::npos);
  std::istringstream not_hex("\nWG-1," + std::string(64, 'z') + "\n");
  r = SeedFileReader(not_hex, "lot.csv").next();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("lot.csv:2: the seed is not hexadecimal"), std::string::npos);
}

// Found by fuzz_seeds_csv: 64 characters with separators inside passed the
// length check and decoded to a seed shorter than 256 bits.
TEST(SeedFile, RefusesSixtyFourCharactersThatHoldFewerThan256Bits) {
  std::istringstream in("WG-1," + std::string(30, 'a') + "\t\t\t\t" + std::string(30, 'b') + "\n");
  auto r = SeedFileReader(in, "lot.csv").next();
  ASSERT_FALSE(r) << "accepted a seed of " << (*r)->seed.view().size() << " bytes";
  EXPECT_NE(r.error().message.find("lot.csv:1: the seed must be 64 hex digits"), std::string::npos)
      << r.error().message;
}

TEST(SeedFile, RefusesALineTooLongWithoutReadingItWhole) {
  CountingBuffer endless('7', std::size_t{8} << 20U);  // 8 MiB without a newline
  std::istream in(&endless);
  auto r = SeedFileReader(in, "lot.csv").next();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("line too long"), std::string::npos) << r.error().message;
  EXPECT_LE(endless.consumed(), k_max_seed_line + 2);
}

TEST(OwnerFile, ReadsAssignmentsSkippingTheHeaderAndComments) {
  auto pki = testing::make_test_pki();
  const std::string anchor = base64_encode(crypto::certificate_der(pki.root.get()));
  std::istringstream in("serial,certificate\n# November\nWG-1," + anchor + "\r\nWG-2," + anchor +
                        "\n");
  auto read = read_owner_assignments(in, "sales.csv");
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->size(), 2U);
  EXPECT_EQ((*read)[0].serial, "WG-1");
  EXPECT_EQ((*read)[0].line, 3);
  EXPECT_EQ((*read)[1].anchor_der, crypto::certificate_der(pki.root.get()));
}

TEST(OwnerFile, RefusesAnAnchorThatIsNotACertificateOrALineWithoutComma) {
  std::istringstream not_cert("WG-1," + base64_encode(as_bytes("hello")) + "\n");
  auto r = read_owner_assignments(not_cert, "sales.csv");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("sales.csv:1: the owner anchor is not a certificate"),
            std::string::npos);
  std::istringstream no_comma("WG-1\n");
  r = read_owner_assignments(no_comma, "sales.csv");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("expected SERIAL,BASE64_DER_CERTIFICATE"), std::string::npos);
}

TEST(OwnerFile, RefusesALineTooLongWithoutReadingItWhole) {
  CountingBuffer endless('A', std::size_t{64} << 20U);  // 64 MiB of base64, no newline
  std::istream in(&endless);
  auto r = read_owner_assignments(in, "sales.csv");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::input_too_large);
  EXPECT_LE(endless.consumed(), k_max_owner_line + 2);
}

TEST(SerialList, ReadsSerialsInOrderWithoutCommentsBlankLinesOrSurroundingSpace) {
  std::istringstream in("# shipment 7\nWG-1\n\n  WG-2 \t\r\n\t# not this\nWG 3\n");
  SerialListReader reader(in, "shipment.txt");
  std::vector<std::string> got;
  while (true) {
    auto serial = reader.next();
    ASSERT_TRUE(serial) << serial.error().message;
    if (!*serial) break;
    got.push_back(**serial);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"WG-1", "WG-2", "WG 3"}));
}

TEST(SerialList, RefusesALineTooLongWithoutReadingItWhole) {
  CountingBuffer endless('S', std::size_t{8} << 20U);  // 8 MiB without a newline
  std::istream in(&endless);
  SerialListReader reader(in, "shipment.txt");
  auto r = reader.next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::input_too_large);
  EXPECT_NE(r.error().message.find("shipment.txt:1: longer than a serial"), std::string::npos);
  EXPECT_LE(endless.consumed(), k_max_serial_line + 2);
}

}  // namespace
}  // namespace vouchsafe::factory
