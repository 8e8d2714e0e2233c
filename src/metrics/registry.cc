// Metrics registry and Prometheus text exposition.
#include "metrics/registry.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace litekeep::metrics {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    // The shortest form that reads back as the same double (0.1, not
    // 0.10000000000000001).
    for (int precision : {15, 16, 17}) {
      std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
      if (std::strtod(buf, nullptr) == v) break;
    }
  }
  return buf;
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Registry::Describe(const std::string& name, Type type,
                        const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  if (DroppedLocked(name)) return;
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
  }
}

void Registry::DescribeHistogram(const std::string& name,
                                 const std::string& help,
                                 std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (DroppedLocked(name)) return;
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = Type::kHistogram;
    it->second.help = help;
    it->second.bounds = std::move(bounds);
  }
}

void Registry::Observe(const std::string& name, const Labels& labels,
                       double v) {
  std::lock_guard<std::mutex> lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end() || f->second.type != Type::kHistogram) return;
  Histogram& h = f->second.histograms[labels];
  h.buckets.resize(f->second.bounds.size());
  for (size_t i = 0; i < f->second.bounds.size(); ++i) {
    if (v <= f->second.bounds[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += v;
}

void Registry::DropPrefix(std::string prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(families_, [&](const auto& entry) {
    return entry.first.starts_with(prefix);
  });
  dropped_prefixes_.push_back(std::move(prefix));
}

bool Registry::DroppedLocked(const std::string& name) const {
  for (const std::string& p : dropped_prefixes_) {
    if (name.starts_with(p)) return true;
  }
  return false;
}

Registry::Family& Registry::FamilyLocked(const std::string& name) {
  return families_[name];  // undeclared families render as untyped gauges
}

void Registry::Add(const std::string& name, const Labels& labels,
                   double delta) {
  std::lock_guard<std::mutex> lock(mu_);
  if (DroppedLocked(name)) return;
  FamilyLocked(name).series[labels] += delta;
}

void Registry::Set(const std::string& name, const Labels& labels,
                   double value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (DroppedLocked(name)) return;
  FamilyLocked(name).series[labels] = value;
}

double Registry::Value(const std::string& name, const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto s = f->second.series.find(labels);
  return s == f->second.series.end() ? 0 : s->second;
}

std::vector<std::pair<Labels, double>> Registry::Series(
    const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<Labels, double>> out;
  auto f = families_.find(name);
  if (f == families_.end()) return out;
  for (const auto& [labels, v] : f->second.series) out.emplace_back(labels, v);
  return out;
}

void Registry::RemoveSeries(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto match = [&](const Labels& labels) {
    for (const auto& [k, v] : labels) {
      if (k == key && v == value) return true;
    }
    return false;
  };
  for (auto& [name, family] : families_) {
    std::erase_if(family.series,
                  [&](const auto& entry) { return match(entry.first); });
    std::erase_if(family.histograms,
                  [&](const auto& entry) { return match(entry.first); });
  }
}

int Registry::AddCollector(std::function<void(Registry&)> collector) {
  std::lock_guard<std::mutex> lock(collectors_mu_);
  const int id = next_collector_++;
  collectors_[id] = std::move(collector);
  return id;
}

void Registry::RemoveCollector(int id) {
  std::lock_guard<std::mutex> lock(collectors_mu_);
  collectors_.erase(id);
}

namespace {

// name{labels[,extra]} — extra is one more label (a histogram's le).
std::string SeriesName(const std::string& name, const Labels& labels,
                       const std::string& extra = "") {
  std::string out = name;
  if (labels.empty() && extra.empty()) return out;
  out += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
  }
  if (!extra.empty()) out += (labels.empty() ? "" : ",") + extra;
  out += '}';
  return out;
}

}  // namespace

void Registry::RenderHistogram(const std::string& name, const Family& family,
                               std::string* out) {
  for (const auto& [labels, h] : family.histograms) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < family.bounds.size(); ++i) {
      cumulative += i < h.buckets.size() ? h.buckets[i] : 0;
      *out += SeriesName(name + "_bucket", labels,
                         "le=\"" + FormatValue(family.bounds[i]) + "\"") +
              ' ' + std::to_string(cumulative) + '\n';
    }
    *out += SeriesName(name + "_bucket", labels, "le=\"+Inf\"") + ' ' +
            std::to_string(h.count) + '\n';
    *out += SeriesName(name + "_sum", labels) + ' ' + FormatValue(h.sum) + '\n';
    *out += SeriesName(name + "_count", labels) + ' ' +
            std::to_string(h.count) + '\n';
  }
}

std::string Registry::Render() {
  {
    std::lock_guard<std::mutex> lock(collectors_mu_);
    for (auto& [id, collector] : collectors_) collector(*this);
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    if (family.series.empty() && family.histograms.empty()) continue;
    if (!family.help.empty())
      out += "# HELP " + name + " " + family.help + "\n";
    const char* type = family.type == Type::kCounter     ? "counter"
                       : family.type == Type::kHistogram ? "histogram"
                                                         : "gauge";
    out += "# TYPE " + name + " " + type + "\n";
    if (family.type == Type::kHistogram) {
      RenderHistogram(name, family, &out);
      continue;
    }
    for (const auto& [labels, v] : family.series) {
      out += SeriesName(name, labels) + ' ' + FormatValue(v) + '\n';
    }
  }
  return out;
}

}  // namespace litekeep::metrics
