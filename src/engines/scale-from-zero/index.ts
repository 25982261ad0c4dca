// Scale from zero: the loop, the EPP scrape and the text-format reader it uses.
export {
  checkMaxConcurrency,
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_POLL_INTERVAL_MS,
  type InactiveVariant,
  type InferencePoolInfo,
  QUEUE_SIZE_METRIC,
  queuedFor,
  SCALE_FROM_ZERO_REASONS,
  type ScaleFromZeroEvent,
  ScaleFromZeroLoop,
  type ScaleFromZeroOptions,
  type ScaleFromZeroOutcome,
  type ScaleFromZeroSource,
  type ScaleTarget,
  TARGET_MODEL_LABEL,
  type Timers,
} from './loop.js';
export {
  DEFAULT_SCRAPE_TIMEOUT_MS,
  EppScrapeError,
  httpScrape,
  MAX_SCRAPE_BYTES,
  type Scrape,
} from './scrape.js';
export { parseTextFormat, TextFormatError, type TextSample } from './text-format.js';
