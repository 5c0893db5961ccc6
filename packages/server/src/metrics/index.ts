export { instrumentServer, type MetricsOptions, onTimeoutLateness } from "./instrument.js";
export {
  HeartlineMetric,
  HeartlineMetricAttribute,
  heartlineMetricUnits,
  metricsDefaults,
  prometheusViews,
  type RenameView,
} from "./names.js";
