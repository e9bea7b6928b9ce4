// Types of local.mjs, for the TypeScript tests that share its helpers.
export const NODE_FLAGS: string[];
export const APP_NODE_FLAGS: string[];
export function quietKafkajsWarnings(): void;
export function freePort(): Promise<number>;
