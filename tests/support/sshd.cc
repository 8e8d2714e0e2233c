// Implementation of the sshd harness.
#include "tests/support/sshd.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

constexpr char kSshd[] = "/usr/sbin/sshd";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// PIDs whose parent is pid (from /proc).
std::vector<pid_t> Children(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = Slurp(e.path().string() + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == pid) out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

// Every descendant of pid, deepest last.
void Descendants(pid_t pid, std::vector<pid_t>* out) {
  for (pid_t c : Children(pid)) {
    out->push_back(c);
    Descendants(c, out);
  }
}

}  // namespace

std::unique_ptr<Sshd> Sshd::Start(std::string* error) {
  if (::access(kSshd, X_OK) != 0) {
    *error = std::string(kSshd) +
             " is not installed (apt-get install openssh-server, or "
             "scripts/install-deps.sh --test)";
    return nullptr;
  }
  std::unique_ptr<Sshd> s(new Sshd());
  const passwd* pw = ::getpwuid(::getuid());
  s->user_ = pw != nullptr ? pw->pw_name : "root";
  ::mkdir("/run/sshd", 0755);  // privilege separation directory
  const std::string d = s->dir_.path();
  auto keygen = [&](const std::string& name, const std::string& pass) {
    return Run({"ssh-keygen", "-q", "-t", "ed25519", "-N", pass, "-C",
                "litekeep-test", "-f", d + "/" + name})
               .exit_code == 0;
  };
  // Two host keys, as a stock OpenSSH install has: the client must ask for
  // the type its known_hosts holds.
  const bool ecdsa = Run({"ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f",
                          d + "/host_key_ecdsa"})
                         .exit_code == 0;
  if (!ecdsa || !keygen("host_key", "") || !keygen("client_key", "") ||
      !keygen("client_key_pw", kKeyPassphrase)) {
    *error = "ssh-keygen failed";
    return nullptr;
  }
  std::ofstream(d + "/authorized_keys")
      << Slurp(d + "/client_key.pub") << Slurp(d + "/client_key_pw.pub");
  ::chmod((d + "/authorized_keys").c_str(), 0600);
  for (int attempt = 0; attempt < 3; ++attempt) {
    s->port_ = FreePort();
    if (s->Launch(error)) return s;
  }
  return nullptr;
}

bool Sshd::Launch(std::string* error) {
  const std::string d = dir_.path();
  std::ofstream(d + "/sshd_config", std::ios::trunc)
      << "Port " << port_ << "\n"
      << "ListenAddress 127.0.0.1\n"
      << "HostKey " << d << "/host_key_ecdsa\n"
      << "HostKey " << d << "/host_key\n"
      << "PidFile " << d << "/sshd.pid\n"
      << "AuthorizedKeysFile " << d << "/authorized_keys\n"
      << "PasswordAuthentication no\n"
      << "KbdInteractiveAuthentication no\n"
      << "PubkeyAuthentication yes\n"
      << "PermitRootLogin prohibit-password\n"
      << "UsePAM no\n"
      << "StrictModes no\n"
      << "MaxStartups 100\n"
      << "MaxSessions 100\n"
      << "Subsystem sftp internal-sftp\n";
  const std::string log = d + "/sshd.log";
  std::ofstream(log, std::ios::trunc).close();
  pid_ = SpawnLogged({kSshd, "-D", "-e", "-f", d + "/sshd_config"}, log);
  const std::string ready =
      "Server listening on 127.0.0.1 port " + std::to_string(port_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Slurp(log).find(ready) != std::string::npos) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (pid_ > 0) StopPid(pid_);
  pid_ = -1;
  *error = "sshd did not start: " + Slurp(log);
  return false;
}

Sshd::~Sshd() { Kill(); }

std::string Sshd::host_key_line() const {
  std::string line = Slurp(dir_.Join("host_key.pub"));
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  return line;
}

std::string Sshd::known_hosts_line() const {
  return "[127.0.0.1]:" + std::to_string(port_) + " " + host_key_line();
}

std::string Sshd::Log() const { return Slurp(dir_.Join("sshd.log")); }

void Sshd::Kill() {
  if (pid_ <= 0) return;
  std::vector<pid_t> all;
  Descendants(pid_, &all);
  ::kill(pid_, SIGKILL);
  for (pid_t p : all) ::kill(p, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool Sshd::Restart(std::string* error) {
  Kill();
  // The port may linger briefly; try a few times.
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (Launch(error)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace litekeep::testing
