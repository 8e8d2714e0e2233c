// Thread-local logging context.
#include "base/log_context.h"

namespace litekeep::base {
namespace {
thread_local const LogContext* g_current = nullptr;
}  // namespace

const LogContext* CurrentLogContext() { return g_current; }

ScopedLogContext::ScopedLogContext(std::string db, std::string replica)
    : context_{std::move(db), std::move(replica)}, previous_(g_current) {
  g_current = &context_;
}

ScopedLogContext::~ScopedLogContext() { g_current = previous_; }

}  // namespace litekeep::base
