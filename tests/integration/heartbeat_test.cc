// `heartbeat-url`: `replicate` GETs the URL (a real local HTTP server)
// once every database has synced, at most once per `heartbeat-interval`,
// never while a database fails to sync, and never logs the URL's token.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

// A one-thread HTTP/1.1 server on 127.0.0.1 that answers 200 to every
// request and counts the GETs of /ping/....
class PingServer {
 public:
  PingServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~PingServer() {
    done_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  int pings() const { return pings_.load(); }

 private:
  void Serve() {
    while (!done_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string req;
      char buf[1024];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      if (req.rfind("GET /ping/", 0) == 0) ++pings_;
      const char kReply[] =
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK";
      [[maybe_unused]] ssize_t w = ::write(c, kReply, sizeof(kReply) - 1);
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<int> pings_{0};
  std::thread thread_;
};

// Writes a config with the heartbeat for db -> replica; returns its path.
std::string WriteConfig(const TempDir& dir, const std::string& db,
                        const std::string& replica, int port) {
  const std::string path = dir.Join("litekeep.yml");
  std::ofstream(path) << "heartbeat-url: http://127.0.0.1:" << port
                      << "/ping/secret-token-123\n"
                         "heartbeat-interval: 1m\n"
                         "dbs:\n  - path: "
                      << db << "\n    replica:\n      path: " << replica
                      << "\n";
  return path;
}

TEST(HeartbeatTest, PingsOncePerIntervalWhileInSync) {
  TempDir dir;
  PingServer server;
  const std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config",
                    WriteConfig(dir, db, dir.Join("r"), server.port())},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] { return server.pings() >= 1; })) << rep.Log();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(server.pings(), 1);  // the next one is due a minute later
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_TRUE(rep.Log().find("heartbeat to http://127.0.0.1:") !=
              std::string::npos)
      << rep.Log();
  EXPECT_EQ(rep.Log().find("secret-token-123"), std::string::npos) << rep.Log();
}

TEST(HeartbeatTest, NoPingWhileADatabaseFailsToSync) {
  TempDir dir;
  PingServer server;
  const std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  std::ofstream(dir.Join("r")) << "a file, not a replica directory";
  ChildProcess rep({LitekeepBin(), "replicate", "-config",
                    WriteConfig(dir, db, dir.Join("r"), server.port())},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    const std::string log = rep.Log();
    return log.find("fail") != std::string::npos ||
           log.find("will retry") != std::string::npos;
  })) << rep.Log();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(server.pings(), 0) << rep.Log();
  rep.Signal(SIGTERM);
  rep.Signal(SIGTERM);  // do not wait out the final sync's retries
  rep.Wait();
}

}  // namespace
}  // namespace litekeep::testing
