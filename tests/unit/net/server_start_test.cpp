// Starting a server can fail for want of threads; that is an error the
// caller reports, never an abort.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>

#include "net/https_server.h"

namespace vouchsafe::net {
namespace {

TEST(HttpsServerStartDeathTest, ReturnsAnErrorWhenItCannotStartItsThreads) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer needs the address space this test takes away";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        // 1024 stacks of 8 MiB do not fit in 512 MiB more than the process has.
        rlimit limit{};
        getrlimit(RLIMIT_AS, &limit);
        std::FILE* statm = std::fopen("/proc/self/statm", "r");
        unsigned long pages = 0;
        if (statm == nullptr || std::fscanf(statm, "%lu", &pages) != 1) std::_Exit(3);
        limit.rlim_cur = pages * static_cast<unsigned long>(sysconf(_SC_PAGESIZE)) + (512UL << 20U);
        setrlimit(RLIMIT_AS, &limit);
        ServerOptions o;
        o.tls = false;
        o.require_client_certificate = false;
        o.threads = 1024;
        auto server = HttpsServer::start(o, [](const HttpRequest&) { return HttpResponse{}; });
        std::_Exit(
            !server && server.error().message.find("worker threads") != std::string::npos ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace vouchsafe::net
