// The live stream's public surface (docs/http-api.md, "GET /api/v1/stream").
export { StreamHub, intervalTicker, FLUSH_MS, RING_CAPACITY, DEFAULT_LIMITS, type Ticker } from './hub.js';
export type { StreamSink, StreamLimits, ResetReason } from './client.js';
export type { StreamItem, IncidentItem, DeliveryItem, BreakerItem, PolicyItem, HealthItem } from './items.js';
export type { CountersItem, FoldedItem } from './items.js';
export { feedStream, streamedHooks, counterTotals } from './feeds.js';
