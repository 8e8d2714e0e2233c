// Metrics registry and Prometheus text exposition.
#include "metrics/registry.h"

#include <cmath>
#include <cstdio>

namespace litekeep::metrics {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.17g", v);
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
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
  }
}

Registry::Family& Registry::FamilyLocked(const std::string& name) {
  return families_[name];  // undeclared families render as untyped gauges
}

void Registry::Add(const std::string& name, const Labels& labels, double delta) {
  std::lock_guard<std::mutex> lock(mu_);
  FamilyLocked(name).series[labels] += delta;
}

void Registry::Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
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
  for (auto& [name, family] : families_) {
    for (auto it = family.series.begin(); it != family.series.end();) {
      bool match = false;
      for (const auto& [k, v] : it->first) match |= (k == key && v == value);
      it = match ? family.series.erase(it) : std::next(it);
    }
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

std::string Registry::Render() {
  {
    std::lock_guard<std::mutex> lock(collectors_mu_);
    for (auto& [id, collector] : collectors_) collector(*this);
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    if (family.series.empty()) continue;
    if (!family.help.empty()) out += "# HELP " + name + " " + family.help + "\n";
    out += "# TYPE " + name + " " +
           (family.type == Type::kCounter ? "counter" : "gauge") + "\n";
    for (const auto& [labels, v] : family.series) {
      out += name;
      if (!labels.empty()) {
        out += '{';
        for (size_t i = 0; i < labels.size(); ++i) {
          if (i > 0) out += ',';
          out += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
        }
        out += '}';
      }
      out += ' ' + FormatValue(v) + '\n';
    }
  }
  return out;
}

}  // namespace litekeep::metrics
