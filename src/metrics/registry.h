// A small metrics registry: counters, gauges and histograms with labels,
// rendered in the
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

enum class Type { kCounter, kGauge, kHistogram };

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Declares a metric family (name, type, HELP text). Declaring again is a
  // no-op. Families are rendered in name order.
  void Describe(const std::string& name, Type type, const std::string& help);

  // Declares a histogram family with these upper bounds (ascending; +Inf is
  // implied). Declaring again is a no-op.
  void DescribeHistogram(const std::string& name, const std::string& help,
                         std::vector<double> bounds);
  // Histogram: counts one observation (in every bucket whose bound is >= v,
  // and in _sum/_count). A family not declared as a histogram ignores it.
  void Observe(const std::string& name, const Labels& labels, double v);

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

  // Drops every family whose name starts with prefix: writes to it are
  // ignored and it is never rendered (a setting that turns a group of
  // series off, e.g. "litestream_").
  void DropPrefix(std::string prefix);

  // A collector refreshes values just before each Render. Returns an id for
  // RemoveCollector, which waits for a running Render to finish (so the
  // collector's captures may be destroyed right after).
  int AddCollector(std::function<void(Registry&)> collector);
  void RemoveCollector(int id);

  // The text exposition of every family with at least one series.
  std::string Render();

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // per bound, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    Type type = Type::kGauge;
    std::string help;
    std::map<Labels, double> series;
    std::vector<double> bounds;              // histograms
    std::map<Labels, Histogram> histograms;  // histograms
  };
  static void RenderHistogram(const std::string& name, const Family& family,
                              std::string* out);
  Family& FamilyLocked(const std::string& name);

  // Whether name is dropped (DropPrefix). mu_ held.
  bool DroppedLocked(const std::string& name) const;

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<std::string> dropped_prefixes_;
  std::mutex collectors_mu_;  // held while collectors run
  std::map<int, std::function<void(Registry&)>> collectors_;
  int next_collector_ = 1;
};

// Formats a sample value the way Prometheus expects (integers without a
// fraction, the shortest exact form otherwise, "+Inf", "NaN").
std::string FormatValue(double v);
// Escapes a label value (backslash, double quote, newline).
std::string EscapeLabelValue(std::string_view v);

}  // namespace litekeep::metrics
