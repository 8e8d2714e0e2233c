// Test harness for NATS: starts Debian's nats-server with JetStream
// (`nats-server -js -a 127.0.0.1 -p PORT -sd DIR`) on a free port, with no
// login, a user and password, or a token; waits for its ready line; kills
// and restarts it by PID with the same store directory; and creates object
// store buckets through the JetStream API as nats.go's CreateObjectStore
// does (stream OBJ_<bucket> on $O.<bucket>.C.> and $O.<bucket>.M.>).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "base/status.h"
#include "storage/nats/options.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {

class NatsServer {
 public:
  struct Auth {
    std::string user, password;  // --user/--pass when set
    std::string token;           // --auth when set
    // nats-server configuration text (written to a private file and
    // passed with -c; the command line still sets -js -a -p -sd).
    std::string config;
    // The login and TLS settings of the harness's own connection (for
    // CreateBucket) when the config needs them.
    std::function<void(storage::nats::NatsOptions*)> client;
    static Auth UserPassword(std::string user, std::string password) {
      Auth a;
      a.user = std::move(user);
      a.password = std::move(password);
      return a;
    }
    static Auth Token(std::string token) {
      Auth a;
      a.token = std::move(token);
      return a;
    }
    static Auth Config(
        std::string config,
        std::function<void(storage::nats::NatsOptions*)> client = {}) {
      Auth a;
      a.config = std::move(config);
      a.client = std::move(client);
      return a;
    }
  };
  // Starts the server; returns nullptr and sets *error (one line) when it
  // cannot, e.g. when nats-server is not installed.
  static std::unique_ptr<NatsServer> Start(std::string* error,
                                           const Auth& auth = {});
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  int port() const { return port_; }
  // "nats://127.0.0.1:PORT".
  std::string Url() const;
  std::string Log() const;
  // The JetStream store directory (-sd).
  std::string StoreDir() const { return dir_.Join("store"); }
  // Options reaching this server with the harness's own login and TLS.
  storage::nats::NatsOptions ClientOptions(const std::string& bucket) const;

  // Creates an object store bucket (file storage, one replica) as nats.go
  // does; Ok when it already exists with the same settings.
  base::Status CreateBucket(const std::string& bucket);

  // Kills the server (SIGKILL, a crash) and waits for it.
  void Kill();
  // Starts it again on the same port and store directory.
  bool Restart(std::string* error);

 private:
  NatsServer() = default;
  bool Launch(std::string* error);

  TempDir dir_;
  Auth auth_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace litekeep::testing
