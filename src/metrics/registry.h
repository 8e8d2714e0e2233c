// A small metrics registry: counters and gauges with labels, rendered in the
// Prometheus text exposition format (version 0.0.4). No global instance:
// whoever needs one creates it and passes a pointer down. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace litekeep::metrics {

// Label name/value pairs, in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class Type { kCounter, kGauge };

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Declares a metric family (name, type, HELP text). Declaring again is a
  // no-op. Families are rendered in name order.
  void Describe(const std::string& name, Type type, const std::string& help);

  // Counter: adds delta (>= 0). Gauge: adds delta.
  void Add(const std::string& name, const Labels& labels, double delta);
  // Sets the value (gauges, and counters mirrored from a total kept
  // elsewhere, e.g. request counts).
  void Set(const std::string& name, const Labels& labels, double value);
  // The current value; 0 when the series does not exist.
  double Value(const std::string& name, const Labels& labels) const;
  // Every series of a family.
  std::vector<std::pair<Labels, double>> Series(const std::string& name) const;
  // Removes every series of every family carrying label `key`=`value`.
  void RemoveSeries(const std::string& key, const std::string& value);

  // A collector refreshes values just before each Render. Returns an id for
  // RemoveCollector, which waits for a running Render to finish (so the
  // collector's captures may be destroyed right after).
  int AddCollector(std::function<void(Registry&)> collector);
  void RemoveCollector(int id);

  // The text exposition of every family with at least one series.
  std::string Render();

 private:
  struct Family {
    Type type = Type::kGauge;
    std::string help;
    std::map<Labels, double> series;
  };
  Family& FamilyLocked(const std::string& name);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::mutex collectors_mu_;  // held while collectors run
  std::map<int, std::function<void(Registry&)>> collectors_;
  int next_collector_ = 1;
};

// Formats a sample value the way Prometheus expects (integers without a
// fraction, "+Inf", "NaN").
std::string FormatValue(double v);
// Escapes a label value (backslash, double quote, newline).
std::string EscapeLabelValue(std::string_view v);

}  // namespace litekeep::metrics
