// Handlers that answer later (HttpsServer::start_async): from another
// thread, while the worker threads go on serving; exactly one answer per
// request; stop() waits for the answers still owed.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "net/https_server.h"
#include "unit/net/server_fixture.h"

namespace vouchsafe::net::testing {
namespace {

// Answers queued requests from its own thread, after a delay: a stand-in
// for the store's writer thread, which answers once an entry is durable.
class LateResponder {
 public:
  explicit LateResponder(std::chrono::milliseconds delay) : delay_(delay) {
    thread_ = std::thread([this] { run(); });
  }
  ~LateResponder() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  LateResponder(const LateResponder&) = delete;
  LateResponder& operator=(const LateResponder&) = delete;

  void queue(std::string target, Respond respond) {
    std::lock_guard lock(mutex_);
    pending_.emplace_back(std::move(target), std::move(respond));
    wake_.notify_all();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;
      auto [target, respond] = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      std::this_thread::sleep_for(delay_);
      respond(text_response(200, "late " + target));
      lock.lock();
    }
  }

  std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::string, Respond>> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

class AsyncHandlerTest : public ServerTest {
 protected:
  void start_async(const ServerOptions& o, AsyncHandler handler) {
    auto server = HttpsServer::start_async(o, std::move(handler));
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(server).value();
  }
};

TEST_F(AsyncHandlerTest, AnAnswerFromAnotherThreadReachesTheClient) {
  LateResponder responder(std::chrono::milliseconds(50));
  start_async(options(), [&](const HttpRequest& request, Respond respond) {
    responder.queue(request.target, std::move(respond));
  });
  const auto result = run_command(curl(&client_a_) + "-w ' %{http_code}' " + url("/later"));
  EXPECT_EQ(result.output, "late /later 200");
}

TEST_F(AsyncHandlerTest, WorkersServeOthersWhileAnAnswerIsOwed) {
  // One worker thread: a request answered in 2 s must not hold up another
  // that the handler answers at once.
  auto o = options();
  o.threads = 1;
  LateResponder responder(std::chrono::milliseconds(2000));
  start_async(o, [&](const HttpRequest& request, Respond respond) {
    if (request.target == "/slow") return responder.queue(request.target, std::move(respond));
    respond(text_response(200, "quick"));
  });
  const auto result =
      run_command("(" + curl(&client_a_) + "-o /dev/null " + url("/slow") + " &) ; sleep 0.3; " +
                  curl(&client_a_) + "-w ' %{time_total}' " + url("/quick"));
  ASSERT_EQ(result.output.rfind("quick ", 0), 0U) << result.output;
  EXPECT_LT(std::stod(result.output.substr(6)), 1.5) << result.output;
}

TEST_F(AsyncHandlerTest, OnlyTheFirstAnswerCounts) {
  start_async(options(), [](const HttpRequest&, const Respond& respond) {
    respond(text_response(201, "first"));
    respond(text_response(202, "second"));
  });
  const auto result =
      run_command(curl(&client_a_) + "-w ' %{http_code}' " + url("/twice") + " " + url("/twice"));
  // Two requests on one connection: each got its first answer only.
  EXPECT_EQ(result.output, "first 201first 201");
}

TEST_F(AsyncHandlerTest, ARequestLeftUnansweredGets500) {
  start_async(options(), [](const HttpRequest&, Respond) {});  // drops its Respond
  const auto result = run_command(curl(&client_a_) + "-w ' %{http_code}' " + url("/dropped"));
  EXPECT_EQ(result.output, "internal error 500");
}

TEST_F(AsyncHandlerTest, StopWaitsForTheAnswersStillOwed) {
  std::mutex mutex;
  std::condition_variable arrived;
  Respond owed;
  start_async(options(), [&](const HttpRequest&, Respond respond) {
    std::lock_guard lock(mutex);
    owed = std::move(respond);
    arrived.notify_all();
  });
  std::thread client([&] { (void)run_command(curl(&client_a_) + url("/owed")); });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(arrived.wait_for(lock, std::chrono::seconds(10), [&] { return bool(owed); }));
  }
  std::thread answer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::lock_guard lock(mutex);
    owed(text_response(200, "after stop began"));
  });
  const auto started = std::chrono::steady_clock::now();
  server_->stop();  // returns only once the owed answer has been given
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(400));
  answer.join();
  client.join();
}

}  // namespace
}  // namespace vouchsafe::net::testing
