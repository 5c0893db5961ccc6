import type { MeterProvider } from "@opentelemetry/api";

/** The metrics option of `createServerCore` / `createServer`. */
export interface MetricsOptions {
  /**
   * Where the server's instruments are created. Default: the global provider
   * (`metrics.getMeterProvider()` from `@opentelemetry/api`), a no-op unless
   * the application registered an SDK before creating the server.
   */
  meterProvider?: MeterProvider;
}
