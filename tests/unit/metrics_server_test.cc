// The metrics HTTP server keeps answering while clients that send nothing
// (or drip bytes) hold connections open, and drops them after its deadline
// (docs/reliability.md).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "metrics/server.h"

namespace litekeep::metrics {
namespace {

using Ms = std::chrono::milliseconds;

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  return fd;
}

// GET path; returns the whole answer, or "" when none came within timeout.
std::string Get(int port, const std::string& path, Ms timeout) {
  int fd = Connect(port);
  std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
  EXPECT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(req.size()));
  std::string resp;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<Ms>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return resp;
}

TEST(MetricsServerTest, AnswersWhileSilentClientsAreConnected) {
  auto server = HttpServer::Start(
      "127.0.0.1:0", {{"/healthz", [] {
                         return HttpResponse{200, "text/plain", "ok\n"};
                       }}});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = (*server)->port();
  // Clients that connect and send nothing (fewer than the workers), and one
  // that sends half a request line.
  std::vector<int> silent;
  for (int i = 0; i < HttpServer::kWorkers - 2; ++i)
    silent.push_back(Connect(port));
  int drip = Connect(port);
  ASSERT_EQ(::send(drip, "GET /hea", 8, MSG_NOSIGNAL), 8);
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    std::string resp = Get(port, "/healthz", Ms(2000));
    EXPECT_NE(resp.find("200 OK"), std::string::npos) << resp;
    EXPECT_NE(resp.find("ok\n"), std::string::npos) << resp;
    EXPECT_LT(std::chrono::steady_clock::now() - start, Ms(1000));
  }
  // The silent client is dropped after the read deadline.
  pollfd p{silent[0], POLLIN, 0};
  ASSERT_EQ(
      ::poll(&p, 1, static_cast<int>(HttpServer::kReadDeadline.count() + 3000)),
      1);
  char c;
  EXPECT_EQ(::recv(silent[0], &c, 1, 0), 0);
  for (int fd : silent) ::close(fd);
  ::close(drip);
  (*server)->Stop();
}

TEST(MetricsServerTest, StopDoesNotWaitForSilentClients) {
  auto server = HttpServer::Start(
      "127.0.0.1:0", {{"/healthz", [] { return HttpResponse{}; }}});
  ASSERT_TRUE(server.ok());
  int fd = Connect((*server)->port());
  std::this_thread::sleep_for(Ms(100));
  const auto start = std::chrono::steady_clock::now();
  (*server)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, Ms(1000));
  ::close(fd);
}

}  // namespace
}  // namespace litekeep::metrics
