// Preloaded (`node --import`) into a CLI run under measurement: at exit, writes one JSON line with
// the process' peak RSS to stderr, where the reliability tests read it.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const { maxRSS } = process.resourceUsage();
  writeSync(2, `${JSON.stringify({ wvaReliability: { maxRssKiB: maxRSS } })}\n`);
});
