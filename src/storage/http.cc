// libcurl implementation of HttpClient: a pool of easy handles (each keeps
// its live connections between requests), each transfer run on one of a
// process-wide set of reused threads, feeding a fixed buffer that the
// caller reads.
#include "storage/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <thread>

#include "storage/url.h"

namespace litekeep::storage {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' ||
                        s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// URL without its query (query strings may carry upload ids; keep it short).
// The URL without its query (presigned parameters) and with any password
// redacted.
std::string UrlForMessage(const std::string& url) {
  return RedactUrlText(url.substr(0, url.find('?')));
}

// The threads that run transfers, shared by every HttpClient of the process
// and reused: a thread that finishes a transfer takes the next one, a new
// thread starts only when every thread is busy, and a thread idle for
// kIdleExit ends. So a restore of 800 ranges through 8 download threads
// runs on about 8 transfer threads, not 800: short-lived threads each cost
// a stack and leave glibc's per-thread heaps holding what they freed
// (docs/cli/restore.md, "Parallel downloads").
class TransferThreads {
 public:
  static constexpr std::chrono::seconds kIdleExit{30};

  // The process's set, never destroyed (threads may still idle at exit).
  static TransferThreads& Get() {
    static TransferThreads* threads = new TransferThreads();
    return *threads;
  }

  // Runs task on an idle thread, or on a new one when none is idle.
  void Run(std::function<void()> task) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
    if (idle_ >= queue_.size()) {
      cv_.notify_one();
      return;
    }
    std::thread(&TransferThreads::Loop, this).detach();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      const bool woke =
          cv_.wait_for(lock, kIdleExit, [this] { return !queue_.empty(); });
      --idle_;
      if (!woke) return;
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      task = nullptr;  // drops what the task held before idling
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t idle_ = 0;  // threads waiting for a task
};

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

struct HttpClient::Pool {
  std::mutex mu;
  std::vector<CURL*> free;
  ~Pool() {
    for (CURL* h : free) curl_easy_cleanup(h);
  }
  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!free.empty()) {
        CURL* h = free.back();
        free.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void Release(CURL* h) {
    curl_easy_reset(h);  // keeps live connections and TLS sessions
    std::lock_guard<std::mutex> lock(mu);
    if (free.size() < 64) {
      free.push_back(h);
      return;
    }
    curl_easy_cleanup(h);
  }
};

struct HttpStream::State {
  std::mutex mu;
  std::condition_variable cv;
  HttpResponse head;
  bool head_ready = false;
  bool done = false;
  bool cancelled = false;
  // The received body bytes not yet read: a ring of `cap` bytes, allocated
  // at the first body byte and never grown.
  std::unique_ptr<char[]> ring;
  size_t cap = 1 << 20;
  size_t ring_head = 0;  // offset of the first unread byte
  size_t ring_used = 0;  // unread bytes
  CURLcode result = CURLE_OK;
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::string method, url;

  // Owned by the worker thread while it runs.
  std::shared_ptr<HttpClient::Pool> pool;
  CURL* handle = nullptr;
  curl_slist* header_list = nullptr;
  std::string_view body;
  size_t body_pos = 0;
  base::Reader* body_reader = nullptr;
  bool body_failed = false;
  KeyValues pending;  // headers of the response being received

  static size_t OnHeader(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<State*>(user);
    std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {
      s->pending.clear();
    } else if (Trim(line).empty()) {
      long code = 0;
      curl_easy_getinfo(s->handle, CURLINFO_RESPONSE_CODE, &code);
      if (code >= 200 || code == 0) {
        std::lock_guard<std::mutex> lock(s->mu);
        s->head.status = code;
        s->head.headers = std::move(s->pending);
        s->head_ready = true;
        s->cv.notify_all();
      }
      s->pending.clear();
    } else {
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        s->pending.emplace_back(Lower(Trim(line.substr(0, colon))),
                                std::string(Trim(line.substr(colon + 1))));
      }
    }
    return size * n;
  }

  // Copies the bytes into the ring as room appears (waiting for the
  // reader while it is full).
  static size_t OnWrite(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<State*>(user);
    const size_t len = size * n;
    std::unique_lock<std::mutex> lock(s->mu);
    if (!s->ring && len > 0) s->ring.reset(new char[s->cap]);
    size_t copied = 0;
    while (copied < len) {
      s->cv.wait(lock, [&] { return s->cancelled || s->ring_used < s->cap; });
      if (s->cancelled) return 0;  // aborts the transfer
      const size_t tail = (s->ring_head + s->ring_used) % s->cap;
      const size_t k =
          std::min({len - copied, s->cap - s->ring_used, s->cap - tail});
      std::memcpy(s->ring.get() + tail, data + copied, k);
      s->ring_used += k;
      copied += k;
      s->cv.notify_all();
    }
    return len;
  }

  // Aborts a transfer whose stream was dropped (also while connecting).
  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t,
                        curl_off_t) {
    auto* s = static_cast<State*>(user);
    std::lock_guard<std::mutex> lock(s->mu);
    return s->cancelled ? 1 : 0;
  }

  static size_t OnRead(char* out, size_t size, size_t n, void* user) {
    auto* s = static_cast<State*>(user);
    size_t want = size * n;
    if (s->body_reader != nullptr) {
      auto r = s->body_reader->Read({reinterpret_cast<uint8_t*>(out), want});
      if (!r.ok()) {
        s->body_failed = true;
        return CURL_READFUNC_ABORT;
      }
      return *r;
    }
    size_t k = std::min(want, s->body.size() - s->body_pos);
    std::memcpy(out, s->body.data() + s->body_pos, k);
    s->body_pos += k;
    return k;
  }

  static int OnSeek(void* user, curl_off_t offset, int origin) {
    auto* s = static_cast<State*>(user);
    if (s->body_reader != nullptr || origin != SEEK_SET || offset < 0 ||
        static_cast<size_t>(offset) > s->body.size()) {
      return CURL_SEEKFUNC_CANTSEEK;
    }
    s->body_pos = static_cast<size_t>(offset);
    return CURL_SEEKFUNC_OK;
  }

  Status TransportError() const {
    std::string what = errbuf[0] ? errbuf : curl_easy_strerror(result);
    std::string msg = "HTTP " + method + " " + UrlForMessage(url) + ": " + what;
    switch (result) {
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return base::InvalidArgumentError(msg);
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
        return base::FailedPreconditionError(
            msg +
            " (TLS verification failed: check ca-bundle, or "
            "skip-verify for a test store)");
      default:
        if (body_failed) return base::IoError(msg + " (reading request body)");
        return base::UnavailableError(msg);
    }
  }
};

HttpStream::HttpStream(std::shared_ptr<State> state)
    : state_(std::move(state)) {}

HttpStream::~HttpStream() {
  // Waits for the transfer to stop: it may still read the request body.
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->cancelled = true;
  state_->cv.notify_all();
  state_->cv.wait(lock, [&] { return state_->done; });
}

long HttpStream::status() const { return state_->head.status; }
const HttpResponse& HttpStream::head() const { return state_->head; }

Result<size_t> HttpStream::Read(std::span<uint8_t> out) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  s.cv.wait(lock, [&] { return s.done || s.ring_used > 0; });
  if (s.ring_used > 0) {
    const size_t k = std::min({out.size(), s.ring_used, s.cap - s.ring_head});
    std::memcpy(out.data(), s.ring.get() + s.ring_head, k);
    s.ring_head = (s.ring_head + k) % s.cap;
    s.ring_used -= k;
    if (s.ring_used == 0) s.ring_head = 0;  // keeps later copies whole
    s.cv.notify_all();
    return k;
  }
  if (s.result != CURLE_OK) return s.TransportError();
  return size_t{0};
}

Result<std::string> HttpStream::ReadAll(size_t max) {
  std::string out;
  uint8_t buf[65536];
  for (;;) {
    LK_ASSIGN_OR_RETURN(size_t n, Read(buf));
    if (n == 0) break;
    if (out.size() + n > max) {
      return base::CorruptError("HTTP response body larger than " +
                                std::to_string(max) + " bytes");
    }
    out.append(reinterpret_cast<char*>(buf), n);
  }
  return out;
}

HttpClient::HttpClient(HttpOptions options)
    : options_(std::move(options)), pool_(std::make_shared<Pool>()) {
  GlobalInit();
}

HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpStream>> HttpClient::Open(const HttpRequest& req) {
  auto state = std::make_shared<HttpStream::State>();
  HttpStream::State& s = *state;
  s.cap = std::max<size_t>(options_.stream_buffer, 64 << 10);
  s.method = req.method;
  s.url = req.url;
  s.pool = pool_;
  s.handle = pool_->Acquire();
  if (s.handle == nullptr) return base::InternalError("curl_easy_init failed");
  s.body = req.body;
  s.body_reader = req.body_reader;
  CURL* h = s.handle;

  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s.errbuf);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  const std::chrono::milliseconds stall = req.stall_timeout.count() > 0
                                              ? req.stall_timeout
                                              : options_.stall_timeout;
  const long stall_s =
      std::max<long>(1, static_cast<long>(stall.count() / 1000));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_s);
  if (options_.request_timeout.count() > 0) {
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(options_.request_timeout.count()));
  }
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.skip_verify ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.skip_verify ? 0L : 2L);
  if (!options_.ca_bundle.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  }
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &HttpStream::State::OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &HttpStream::State::OnWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &HttpStream::State::OnRead);
  curl_easy_setopt(h, CURLOPT_READDATA, &s);
  curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &HttpStream::State::OnSeek);
  curl_easy_setopt(h, CURLOPT_SEEKDATA, &s);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &HttpStream::State::OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &s);

  const curl_off_t body_size = req.body_reader != nullptr
                                   ? req.body_size
                                   : static_cast<curl_off_t>(req.body.size());
  if (req.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, body_size);
  } else if (req.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, body_size);
  } else {
    // WebDAV's PROPFIND and LOCK carry an XML body: send it as POST would.
    if (body_size > 0) {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, body_size);
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  for (const auto& [k, v] : req.headers) {
    std::string line = v.empty() ? k + ";" : k + ": " + v;
    s.header_list = curl_slist_append(s.header_list, line.c_str());
  }
  // No "Expect: 100-continue" round trip; no default form content type.
  s.header_list = curl_slist_append(s.header_list, "Expect:");
  bool has_type = false;
  for (const auto& [k, v] : req.headers) {
    if (Lower(k) == "content-type") has_type = true;
  }
  if (!has_type)
    s.header_list = curl_slist_append(s.header_list, "Content-Type:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, s.header_list);

  // The task holds the state until it is done with it, whenever the
  // stream goes.
  std::shared_ptr<HttpStream::State> held = state;
  TransferThreads::Get().Run([held] {
    HttpStream::State* raw = held.get();
    CURLcode rc = curl_easy_perform(raw->handle);
    long code = 0;
    curl_easy_getinfo(raw->handle, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(raw->header_list);
    raw->header_list = nullptr;
    raw->pool->Release(raw->handle);
    raw->handle = nullptr;
    std::lock_guard<std::mutex> lock(raw->mu);
    raw->result = rc;
    if (!raw->head_ready) {
      raw->head.status = rc == CURLE_OK ? code : 0;
      raw->head_ready = true;
    }
    raw->done = true;
    raw->cv.notify_all();
  });

  std::unique_ptr<HttpStream> stream(new HttpStream(state));
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.cv.wait(lock, [&] { return s.head_ready; });
    if (s.head.status == 0 && s.done && s.result != CURLE_OK) {
      return s.TransportError();
    }
  }
  return stream;
}

Result<HttpResponse> HttpClient::Do(const HttpRequest& request) {
  LK_ASSIGN_OR_RETURN(auto stream, Open(request));
  LK_ASSIGN_OR_RETURN(std::string body, stream->ReadAll(64 << 20));
  HttpResponse out = stream->head();
  out.body = std::move(body);
  return out;
}

}  // namespace litekeep::storage
