export { instrumentServer, type MetricsOptions, onTimeoutLateness } from "./instrument.js";
export { HeartlineMetric, HeartlineMetricAttribute, metricsDefaults } from "./names.js";
