export const clientSuiteDefaults = Object.freeze({});
export interface ClientSuiteOptions {
  readonly command: readonly string[];
}
