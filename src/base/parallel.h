// ParallelFor: runs an indexed loop body on a bounded number of threads.
#pragma once

#include <cstddef>
#include <functional>

namespace litekeep::base {

// Calls fn(i) exactly once for every i in [0, n), on up to `threads` threads
// (the caller's thread included; threads < 1 counts as 1), and returns when
// every call has returned. Indexes are handed out in increasing order; fn
// must be safe to call concurrently for different indexes.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);

}  // namespace litekeep::base
