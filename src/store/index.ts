// The store's public surface.
export { Store } from './store.js';
export type { CommitOptions, IncidentFilter } from './store.js';
export { Transaction } from './transaction.js';
export type { NewAuditEntry } from './transaction.js';
export type { CommitObserver, Committed } from './writer.js';
export type { CountsAhead, ProviderMark } from './layout.js';
export { IdGenerator, idTimeMs } from './ids.js';
