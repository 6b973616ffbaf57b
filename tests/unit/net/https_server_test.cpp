// The HTTPS server over real TLS on 127.0.0.1, driven by curl: client
// identity, protocol versions, keep-alive, plain-HTTP admin mode, metrics,
// start-up errors and stop.
#include "net/https_server.h"

#include <gtest/gtest.h>

#include "unit/net/server_fixture.h"

namespace vouchsafe::net::testing {
namespace {

using HttpsServerTest = ServerTest;

TEST_F(HttpsServerTest, AnswersAClientWithACertificateAndPassesItsFingerprint) {
  start(options(), echo_handler());
  const auto result = run_command(curl(&client_a_) + "-w '\\n%{http_code}' " + url("/hello?x=1"));
  ASSERT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output, "hello /hello?x=1\n200");

  const auto requests = log_.snapshot();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/hello?x=1");
  EXPECT_EQ(requests[0].client_fingerprint, client_a_.fingerprint);
  EXPECT_EQ(hex_encode(crypto::sha256(requests[0].client_certificate_der)), client_a_.fingerprint);
  EXPECT_TRUE(requests[0].client_chain_der.empty());
  EXPECT_EQ(requests[0].remote_address.rfind("127.0.0.1:", 0), 0U);
}

TEST_F(HttpsServerTest, PassesBodyContentTypeAndAccept) {
  start(options(), echo_handler());
  const std::string body(1000, 'b');
  const auto file = write("body.bin", body);
  const auto result = run_command(
      curl(&client_a_) +
      "-H 'Content-Type: application/voucher-cms+json' -H 'Accept: application/voucher-jws+json' "
      "--data-binary @" +
      file + " -o /dev/null -w '%{http_code}' " + url("/.well-known/brski/requestvoucher"));
  EXPECT_EQ(result.output, "200");
  const auto requests = log_.snapshot();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].content_type, "application/voucher-cms+json");
  EXPECT_EQ(requests[0].accept, "application/voucher-jws+json");
  EXPECT_EQ(requests[0].body, to_bytes(body));
}

TEST_F(HttpsServerTest, CarriesBodiesOfManyTlsRecordsBothWays) {
  // 60 KB in and 300 KB out: many 16 KiB records each way, so that the
  // stream's reads and writes of partial records are exercised.
  std::string request_body(60000, '\0');
  std::string response_body(300000, '\0');
  for (std::size_t i = 0; i < request_body.size(); ++i) request_body[i] = char(i * 7 % 251);
  for (std::size_t i = 0; i < response_body.size(); ++i) response_body[i] = char(i * 13 % 241);
  start(options(), [&](const HttpRequest& request) {
    log_.record(request);
    HttpResponse response;
    response.status = 200;
    response.content_type = "application/octet-stream";
    response.body = to_bytes(response_body);
    return response;
  });
  const auto in = write("in.bin", request_body);
  const auto out = (dir_ / "out.bin").string();
  const auto result = run_command(curl(&client_a_) + "--data-binary @" + in + " -o " + out +
                                  " -w '%{http_code}' " + url("/large"));
  EXPECT_EQ(result.output, "200");
  ASSERT_EQ(log_.calls.load(), 1);
  EXPECT_EQ(log_.snapshot()[0].body, to_bytes(request_body));
  const auto received = read_file(out, 1U << 20U);
  ASSERT_TRUE(received) << received.error().message;
  EXPECT_EQ(*received, to_bytes(response_body));
}

TEST_F(HttpsServerTest, AnswersExpectContinueBeforeReadingTheBody) {
  start(options(), echo_handler());
  const auto file = write("body.bin", std::string(2000, 'c'));
  const auto started = std::chrono::steady_clock::now();
  const auto result = run_command(curl(&client_a_) + "-H 'Expect: 100-continue' --data-binary @" +
                                  file + " -o /dev/null -w '%{http_code}' " + url("/upload"));
  EXPECT_EQ(result.output, "200");
  // curl waits a second for "100 Continue" before sending the body anyway.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
  ASSERT_EQ(log_.calls.load(), 1);
  EXPECT_EQ(log_.snapshot()[0].body.size(), 2000U);
}

TEST_F(HttpsServerTest, RefusesTheHandshakeWithoutAClientCertificate) {
  start(options(), echo_handler());
  const auto result = run_command(curl(nullptr) + url("/hello"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(log_.calls.load(), 0);
  EXPECT_TRUE(eventually([&] { return counter("vouchsafe_tls_handshake_failures_total") >= 1; }));
}

TEST_F(HttpsServerTest, RefusesTls11AndAcceptsTls12) {
  start(options(), echo_handler());
  // SECLEVEL=0 so that curl's OpenSSL offers TLS 1.1 at all: the refusal
  // must come from the server.
  const auto old = run_command(
      curl(&client_a_) + "--tlsv1.1 --tls-max 1.1 --ciphers DEFAULT@SECLEVEL=0 " + url("/hello"));
  EXPECT_NE(old.exit_code, 0);
  EXPECT_TRUE(eventually([&] { return counter("vouchsafe_tls_handshake_failures_total") == 1; }));
  const auto tls12 = run_command(curl(&client_a_) + "--tlsv1.2 --tls-max 1.2 -o /dev/null " +
                                 "-w '%{http_code}' " + url("/hello"));
  EXPECT_EQ(tls12.output, "200");
  const auto tls13 =
      run_command(curl(&client_a_) + "--tlsv1.3 -o /dev/null -w '%{http_code}' " + url("/hello"));
  EXPECT_EQ(tls13.output, "200");
  EXPECT_EQ(log_.calls.load(), 2);
}

// openssl s_client lists TLS_AES_256_GCM_SHA384 first; the server's order
// (128-bit suite first, tls.h) wins, and a client offering only AES-256 is
// still served.
TEST_F(HttpsServerTest, PicksAes128GcmOverTheClientsOrderInTls13) {
  start(options(), echo_handler());
  const std::string s_client =
      "echo | timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(server_->port()) +
      " -cert " + client_a_.cert_file + " -key " + client_a_.key_file + " ";
  const auto stock = run_command(s_client);
  EXPECT_NE(stock.output.find("Cipher is TLS_AES_128_GCM_SHA256"), std::string::npos)
      << stock.output;
  const auto only256 = run_command(s_client + "-ciphersuites TLS_AES_256_GCM_SHA384");
  EXPECT_NE(only256.output.find("Cipher is TLS_AES_256_GCM_SHA384"), std::string::npos)
      << only256.output;
}

TEST_F(HttpsServerTest, KeepsTheConnectionAliveBetweenRequests) {
  start(options(), echo_handler());
  const auto result =
      run_command(curl(&client_a_) + "-o /dev/null -o /dev/null -w '%{num_connects} ' " +
                  url("/one") + " " + url("/two"));
  ASSERT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output, "1 0 ");
  const auto requests = log_.snapshot();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].remote_address, requests[1].remote_address);
}

TEST_F(HttpsServerTest, ServesConcurrentClients) {
  start(options(), echo_handler());
  std::string command = "for i in 1 2 3 4 5 6 7 8; do " + curl(&client_a_) +
                        "-o /dev/null -w '%{http_code}\\n' " + url("/c") + " & done; wait";
  const auto result = run_command(command);
  EXPECT_EQ(lines(result.output), std::vector<std::string>(8, "200"));
  EXPECT_EQ(log_.calls.load(), 8);
}

TEST_F(HttpsServerTest, ErrorsFromTheHandlerAreAnsweredAs500) {
  start(options(), [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("bug"); });
  const auto result =
      run_command(curl(&client_a_) + "-w ' %{http_code} %{content_type}' " + url("/boom"));
  EXPECT_EQ(result.output, "internal error 500 text/plain; charset=utf-8");
}

TEST_F(HttpsServerTest, CountsRequestsAndLatencyPerEndpoint) {
  start(options(), echo_handler());
  run_command(curl(&client_a_) + "-o /dev/null " + url("/hello") + " " + url("/hello?q"));
  const std::string text = server_->metrics()->render_prometheus();
  EXPECT_NE(text.find("# TYPE vouchsafe_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("vouchsafe_http_requests_total{endpoint=\"/hello\",status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("vouchsafe_http_request_duration_seconds_count{endpoint=\"/hello\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          "vouchsafe_http_request_duration_seconds_bucket{endpoint=\"/hello\",le=\"+Inf\"} 2"),
      std::string::npos);
}

TEST_F(HttpsServerTest, LabelsUnlistedPathsAsOther) {
  auto o = options();
  o.metric_endpoints = {"/known"};
  start(o, echo_handler());
  run_command(curl(&client_a_) + "-o /dev/null " + url("/known") + " " + url("/random-1"));
  EXPECT_EQ(counter("vouchsafe_http_requests_total", {"/known", "200"}), 1U);
  EXPECT_EQ(counter("vouchsafe_http_requests_total", {"other", "200"}), 1U);
}

TEST_F(HttpsServerTest, ServesPlainHttpForAnAdminListener) {
  auto metrics = std::make_shared<MetricsRegistry>();
  auto o = options();
  o.metrics = metrics;
  start(o, echo_handler());
  run_command(curl(&client_a_) + "-o /dev/null " + url("/hello"));

  ServerOptions admin;
  admin.tls = false;
  admin.require_client_certificate = false;
  admin.threads = 1;
  admin.metrics = metrics;
  auto admin_server = HttpsServer::start(admin, [&](const HttpRequest& request) {
    if (request.target != "/metrics") return text_response(404, "not found");
    return HttpResponse{
        200, "text/plain; version=0.0.4", to_bytes(metrics->render_prometheus()), {}};
  });
  ASSERT_TRUE(admin_server) << admin_server.error().message;
  const auto result = run_command("curl -sS --max-time 10 http://127.0.0.1:" +
                                  std::to_string((*admin_server)->port()) + "/metrics");
  ASSERT_EQ(result.exit_code, 0);
  EXPECT_NE(
      result.output.find("vouchsafe_http_requests_total{endpoint=\"/hello\",status=\"200\"} 1"),
      std::string::npos)
      << result.output;
}

TEST_F(HttpsServerTest, TlsWithoutClientCertificatesForAnAdminListener) {
  auto o = options();
  o.require_client_certificate = false;
  start(o, echo_handler());
  const auto result = run_command(curl(nullptr) + "-w ' %{http_code}' " + url("/healthz"));
  EXPECT_EQ(result.output, "hello /healthz 200");
  EXPECT_TRUE(log_.snapshot().at(0).client_fingerprint.empty());
}

TEST_F(HttpsServerTest, LoadsAnEncryptedKeyWithItsPassphrase) {
  auto o = options();
  o.key_file = write("encrypted.key", pem_key(server_key_.get(), std::string("s3cret")));
  o.key_passphrase = "s3cret";
  start(o, echo_handler());
  EXPECT_EQ(run_command(curl(&client_a_) + "-o /dev/null -w '%{http_code}' " + url("/")).output,
            "200");
}

TEST_F(HttpsServerTest, SignsItsHandshakesThroughASignerOnGnuTlsOnly) {
  // A signer, as a key on a token is given: no key file at all.
  auto key = crypto::load_private_key(server_key_file_, std::nullopt);
  ASSERT_TRUE(key) << key.error().message;
  auto signer = crypto::SoftwareSigner::create(std::move(key).value());
  ASSERT_TRUE(signer) << signer.error().message;
  auto o = options();
  o.key_file.clear();
  o.key_signer = std::move(signer).value();
  if (tls_library() == TlsLibrary::openssl) {
    auto refused = HttpsServer::start(o, echo_handler());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::usage);
    EXPECT_NE(refused.error().message.find("tls_library = gnutls"), std::string::npos);
    return;
  }
  start(o, echo_handler());
  // curl checks the handshake's signature against the server certificate
  // (-k skips only the chain).
  EXPECT_EQ(run_command(curl(&client_a_) + "-w '\\n%{http_code}' " + url("/signed")).output,
            "hello /signed\n200");
}

TEST_F(HttpsServerTest, ReportsStartUpErrorsAsValues) {
  auto o = options();
  o.key_file = write("encrypted.key", pem_key(server_key_.get(), std::string("s3cret")));
  o.key_passphrase = "wrong";
  auto wrong_passphrase = HttpsServer::start(o, echo_handler());
  ASSERT_FALSE(wrong_passphrase);
  EXPECT_EQ(wrong_passphrase.error().code, ErrorCode::bad_passphrase);

  o = options();
  o.cert_file = (dir_ / "missing.pem").string();
  auto missing = HttpsServer::start(o, echo_handler());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing.pem"), std::string::npos);

  o = options();
  o.key_file = client_a_.key_file;  // not the certificate's key
  auto mismatch = HttpsServer::start(o, echo_handler());
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, ErrorCode::bad_key);

  o = options();
  o.tls = false;  // still asking for a client certificate
  EXPECT_FALSE(HttpsServer::start(o, echo_handler()));

  o = options();
  o.address = "not-an-address";
  EXPECT_FALSE(HttpsServer::start(o, echo_handler()));
}

TEST_F(HttpsServerTest, RefusesToBindAPortInUse) {
  start(options(), echo_handler());
  auto o = options();
  o.port = server_->port();
  auto second = HttpsServer::start(o, echo_handler());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::io_error);
}

TEST_F(HttpsServerTest, StopClosesTheListenerAndOpenConnections) {
  auto o = options();
  o.idle_timeout = std::chrono::seconds(20);
  start(o, echo_handler());
  RawTlsClient idle(server_->port(), client_a_);
  idle.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
  const std::string address = url("/hello");
  server_->stop();
  server_->stop();  // idempotent
  EXPECT_NE(run_command(curl(&client_a_) + address).exit_code, 0);
  // The kept-alive connection is closed by stop, not by its idle timeout.
  const auto closed = idle.seconds_until_closed(std::chrono::seconds(3));
  EXPECT_TRUE(closed.has_value());
}

TEST_F(HttpsServerTest, AnswersHeadWithTheHeaderAndNoBody) {
  start(options(), echo_handler());
  RawTlsClient client(server_->port(), client_a_);
  // HEAD, then GET on the same connection: a body after the HEAD answer
  // would be read as the start of the second response.
  client.send(
      "HEAD /first HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /second HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(client.seconds_until_closed(std::chrono::seconds(5)));
  const std::string& got = client.received();
  const auto second = got.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << got;
  const std::string head_answer = got.substr(0, second);
  // The length a GET would get ("hello /first"), and nothing after the header.
  EXPECT_NE(head_answer.find("Content-Length: 12\r\n"), std::string::npos) << head_answer;
  EXPECT_EQ(head_answer.substr(head_answer.size() - 4), "\r\n\r\n") << head_answer;
  EXPECT_EQ(got.find("hello /first"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.size() - 13), "hello /second") << got;
  EXPECT_EQ(log_.calls.load(), 2);
}

TEST_F(HttpsServerTest, EndsAClosingConnectionWithCloseNotify) {
  start(options(), echo_handler());
  RawTlsClient client(server_->port(), client_a_);
  client.send("GET /bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(client.seconds_until_closed(std::chrono::seconds(5)));
  EXPECT_NE(client.received().find("hello /bye"), std::string::npos);
  // Asio reports a TLS close_notify as end of file, a bare TCP close as
  // "stream truncated".
  EXPECT_EQ(client.close_reason(),
            boost::asio::error::make_error_code(boost::asio::error::eof).message());
}

}  // namespace
}  // namespace vouchsafe::net::testing
