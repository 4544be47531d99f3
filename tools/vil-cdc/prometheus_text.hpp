#pragma once
// TriggerMetrics in Prometheus' text exposition format (version 0.0.4), named
// by Prometheus' rules: prefix vil_cdc_, base units (bytes, seconds), _total
// on counters. docs/DESIGN.md §5.1 lists every metric.

#include <string>

#include "vil/cdc/trigger_metrics.hpp"

namespace vil::cli {

struct MetricsLabels {
  std::string slot_name;
  bool broker_sink = false;  // the sink_* metrics: an asynchronous destination runs
};

std::string prometheus_text(const cdc::TriggerMetrics& metrics, const MetricsLabels& labels);

}  // namespace vil::cli
