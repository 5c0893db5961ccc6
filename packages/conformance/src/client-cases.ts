export const clientCases = [];
export function runClientSuite(): void {}
