export type { ConnectionRow, ConnectionsPage } from "./connections-page.js";
export { createDashboard, type Dashboard } from "./create-dashboard.js";
export { DashboardError, type DashboardOptions, dashboardDefaults } from "./options.js";
export type { Sample, SampleShape } from "./sampler.js";
