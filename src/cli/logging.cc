// Logger set-up from the `logging:` config: level, text or JSON lines,
// stderr or stdout. Every line carries the thread's database and replica
// (base/log_context.h); JSON lines are escaped properly.
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "base/log_context.h"
#include "cli/common.h"

namespace litekeep::cli {
namespace {

std::string JsonString(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// %* : " db=... replica=..." (text) — nothing outside a context.
class TextContextFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const base::LogContext* c = base::CurrentLogContext();
    if (c == nullptr) return;
    std::string s = " db=" + c->db + " replica=" + c->replica;
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<TextContextFlag>();
  }
};

// %* in JSON: ,"db":"...","replica":"..." ; %& : the escaped message.
class JsonContextFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const base::LogContext* c = base::CurrentLogContext();
    if (c == nullptr) return;
    std::string s = ",\"db\":" + JsonString(c->db) +
                    ",\"replica\":" + JsonString(c->replica);
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonContextFlag>();
  }
};

class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string s = JsonString(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

void InitLogging(const config::LoggingConfig& logging) {
  spdlog::sink_ptr sink;
  if (logging.to_stderr) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  }
  auto logger = std::make_shared<spdlog::logger>("litekeep", sink);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(
      spdlog::pattern_time_type::utc);
  if (logging.type == "json") {
    formatter->add_flag<JsonContextFlag>('*');
    formatter->add_flag<JsonMessageFlag>('&');
    formatter->set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":%&%*})");
  } else {
    formatter->add_flag<TextContextFlag>('*');
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v%*");
  }
  logger->set_formatter(std::move(formatter));
  spdlog::level::level_enum level = spdlog::level::info;
  std::string l = logging.level;
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "trace") level = spdlog::level::trace;
  if (l == "debug") level = spdlog::level::debug;
  if (l == "warn" || l == "warning") level = spdlog::level::warn;
  if (l == "error") level = spdlog::level::err;
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

}  // namespace litekeep::cli
