// Thread-local logging context: the database and replica the current thread
// works for. Every log line written on that thread names them (the CLI's
// log format prints the context), so call sites need not repeat them.
// The replica must be given in a form safe to print (no secrets).
#pragma once

#include <string>

namespace litekeep::base {

struct LogContext {
  std::string db;
  std::string replica;
};

// The innermost context of this thread, or nullptr.
const LogContext* CurrentLogContext();

// Sets the context for its lifetime (restoring the previous one after).
class ScopedLogContext {
 public:
  ScopedLogContext(std::string db, std::string replica);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  LogContext context_;
  const LogContext* previous_;
};

}  // namespace litekeep::base
