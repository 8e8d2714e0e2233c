// A fault-injecting HTTP/1.1 proxy for tests: sits on 127.0.0.1 between a
// client and a real server and, at a set rate, answers 503 SlowDown or 500,
// delays or stalls a response, resets the connection (before or after the
// server saw the request) or truncates the response body. Each connection
// carries one request (the proxy answers with Connection: close).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace litekeep::testing {

struct FaultRates {
  double slow_down_503 = 0;  // 503 SlowDown, request not forwarded
  double internal_500 = 0;   // 500 InternalError, request not forwarded
  double delay = 0;          // forward after `delay_time`
  double stall = 0;          // hold the response for `stall_time`, then send
  double reset = 0;  // RST the connection (half before, half after forwarding)
  double truncate = 0;  // forward, send headers and half the body, RST
  // Forward, send the headers and a few body bytes, then hold the connection
  // open for `stall_time` before closing it (a server that stops talking).
  double dribble = 0;
  std::chrono::milliseconds delay_time{200};
  std::chrono::milliseconds stall_time{3000};
};

struct FaultCounts {
  uint64_t requests = 0, slow_down_503 = 0, internal_500 = 0, delay = 0,
           stall = 0, reset = 0, truncate = 0, dribble = 0;
  uint64_t injected() const {
    return slow_down_503 + internal_500 + delay + stall + reset + truncate +
           dribble;
  }
};

// What every successful GET of an ".ltx" object gets (BodyFault::kNone:
// the object as stored).
enum class BodyFault {
  kNone,
  kEndless,   // no Content-Length; the object, then junk until the client
              // hangs up (at most 1 GiB)
  kOverlong,  // Content-Length and body 64 KiB longer than the object
  kDrip,      // the object at `drip_bytes_per_sec`
  kShort,     // Content-Length and body: the first half of the object (a
              // store whose object is shorter than its listing says)
};

// What every S3 CompleteMultipartUpload (a POST with uploadId) gets.
enum class CompleteFault {
  kNone,
  kHold,  // forwarded; the answer is held `complete_hold` before it is sent
  kLoseFirst,  // the first is forwarded and its answer lost (RST); later
               // ones are forwarded (s3rver answers them 500)
  kLoseFirstThenNoSuchUpload,  // the first as kLoseFirst; later ones are
                               // answered 404 NoSuchUpload (as AWS does)
};

class FaultProxy {
 public:
  // Listens on a free 127.0.0.1 port and forwards to 127.0.0.1:upstream_port.
  FaultProxy(int upstream_port, FaultRates rates, uint64_t seed = 1);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string endpoint() const;  // "http://127.0.0.1:PORT"
  void set_rates(const FaultRates& rates);
  // When not empty, every request is answered with these raw bytes (a full
  // HTTP response) instead of being forwarded: for canned store errors.
  void set_canned_response(std::string raw);
  void set_body_fault(BodyFault fault, size_t drip_bytes_per_sec = 4096);
  void set_complete_fault(CompleteFault fault,
                          std::chrono::milliseconds hold = {});
  // CompleteMultipartUpload requests received so far.
  uint64_t completes() const;
  // Makes the proxy a conformant shim for conditional PUTs in front of a
  // store that ignores them (s3rver): a PUT with `If-None-Match: *` or
  // `If-Match: <ETag>` is checked with a HEAD of the same key and answered
  // 412 PreconditionFailed when the condition fails; check and PUT run
  // under one lock, so conditional PUTs through this proxy are atomic.
  void set_conditional_puts(bool on);
  // Conditional PUTs refused with 412 so far.
  uint64_t conditional_refusals() const;
  // Bytes sent by kEndless so far (all connections).
  uint64_t endless_bytes_sent() const;
  FaultCounts counts() const;
  // The head (request line and headers, no body) of every request received
  // so far, in arrival order: lets a test check what a client sent.
  std::vector<std::string> request_heads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace litekeep::testing
