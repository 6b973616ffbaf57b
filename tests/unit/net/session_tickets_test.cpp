// Session tickets shared between server instances (issue 12): a client
// that got a ticket from one instance resumes on another holding the same
// keys, keeps its client-certificate identity, still resumes with a ticket
// sealed by a key rotated out of first place, and makes a full handshake
// once that key is dropped or on an instance with other keys. The client is
// `openssl s_client`, not our code.
#include <gtest/gtest.h>
#include <openssl/rand.h>

#include "net/ticket_keys.h"
#include "server_fixture.h"

namespace vouchsafe::net::testing {
namespace {

TicketKey random_key() {
  Bytes material(TicketKey::k_material_size);
  EXPECT_EQ(RAND_bytes(material.data(), static_cast<int>(material.size())), 1);
  return *TicketKey::from_material(material);
}

class SessionTicketsTest : public ServerTest {
 protected:
  std::unique_ptr<HttpsServer> instance(std::shared_ptr<const TicketKeyring> keys) {
    auto o = options();
    o.ticket_keys = std::move(keys);
    auto server = HttpsServer::start(o, echo_handler());
    EXPECT_TRUE(server) << server.error().message;
    return server ? std::move(server).value() : nullptr;
  }

  // One request through s_client, resuming the session in file `from` (if
  // any) and saving the one it ends with in `to`. Returns s_client's output.
  std::string request(const HttpsServer& server, const std::string& from,
                      const std::string& to = "session.pem") {
    const std::string command =
        "printf 'GET /x HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n' | "
        "timeout 10 openssl s_client -connect 127.0.0.1:" +
        std::to_string(server.port()) + " -cert " + client_a_.cert_file + " -key " +
        client_a_.key_file + " -ign_eof " +
        (from.empty() ? std::string() : "-sess_in " + (dir_ / from).string() + " ") + "-sess_out " +
        (dir_ / to).string() + " 2>&1";
    return run_command(command).output;
  }

  static bool reused(const std::string& s_client_output) {
    return s_client_output.find("Reused, TLSv1.3") != std::string::npos;
  }

  static std::uint64_t resumed(const HttpsServer& server) {
    return server.metrics()->counter("vouchsafe_tls_handshakes_total", {"resumed"}).value();
  }
};

TEST_F(SessionTicketsTest, AClientResumesOnAnotherInstanceWithTheSameKeysAndKeepsItsIdentity) {
  auto keys = std::make_shared<TicketKeyring>();
  keys->replace({random_key()});
  auto a = instance(keys);
  auto b = instance(keys);
  ASSERT_TRUE(a && b);
  const auto first = request(*a, "");
  ASSERT_NE(first.find("hello /x"), std::string::npos) << first;
  EXPECT_FALSE(reused(first));
  // One ticket, not OpenSSL's default two: each costs the server a copy of
  // the session.
  std::size_t tickets = 0;
  for (auto at = first.find("New Session Ticket arrived"); at != std::string::npos;
       at = first.find("New Session Ticket arrived", at + 1)) {
    ++tickets;
  }
  EXPECT_EQ(tickets, 1U) << first;
  const auto second = request(*b, "session.pem");
  EXPECT_TRUE(reused(second)) << second;
  EXPECT_NE(second.find("hello /x"), std::string::npos) << second;
  EXPECT_EQ(resumed(*b), 1U);
  // The resumed session still names the client by its certificate.
  const auto seen = log_.snapshot();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[1].client_fingerprint, client_a_.fingerprint);
}

TEST_F(SessionTicketsTest, ARotatedKeyStillOpensItsTicketsUntilDropped) {
  auto keys = std::make_shared<TicketKeyring>();
  const TicketKey old_key = random_key();
  const TicketKey new_key = random_key();
  keys->replace({old_key});
  auto server = instance(keys);
  ASSERT_TRUE(server);
  request(*server, "", "old.pem");
  keys->replace({new_key, old_key});  // rotated: the old key only opens
  const auto rotated = request(*server, "old.pem", "renewed.pem");
  if (tls_library() == TlsLibrary::gnutls) {
    // GnuTLS derives its ticket keys from the newest key alone
    // (TicketKeyring::gnutls_master): a ticket from before the rotation
    // gets a full handshake and a ticket under the new key.
    EXPECT_FALSE(reused(rotated)) << rotated;
    EXPECT_NE(rotated.find("hello /x"), std::string::npos) << rotated;
    EXPECT_TRUE(reused(request(*server, "renewed.pem", "ignored.pem")));
    return;
  }
  EXPECT_TRUE(reused(rotated)) << rotated;
  keys->replace({new_key});  // the old key dropped
  const auto stale = request(*server, "old.pem", "ignored.pem");
  EXPECT_FALSE(reused(stale)) << stale;
  EXPECT_NE(stale.find("hello /x"), std::string::npos);
  // The ticket renewed under the new key resumes still.
  EXPECT_TRUE(reused(request(*server, "renewed.pem", "ignored.pem")));
}

TEST_F(SessionTicketsTest, AnInstanceWithOtherKeysMakesAFullHandshake) {
  auto ours = std::make_shared<TicketKeyring>();
  ours->replace({random_key()});
  auto theirs = std::make_shared<TicketKeyring>();
  theirs->replace({random_key()});
  auto a = instance(ours);
  auto b = instance(theirs);
  request(*a, "");
  const auto elsewhere = request(*b, "session.pem");
  EXPECT_FALSE(reused(elsewhere)) << elsewhere;
  EXPECT_NE(elsewhere.find("hello /x"), std::string::npos);
  EXPECT_EQ(resumed(*b), 0U);
}

TEST(TicketKey, IsExactlyEightyBytesOfMaterial) {
  EXPECT_FALSE(TicketKey::from_material(Bytes(79)));
  EXPECT_FALSE(TicketKey::from_material(Bytes(81)));
  const auto key = TicketKey::from_material(Bytes(80, 7));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->name[0], 7);
}

}  // namespace
}  // namespace vouchsafe::net::testing
