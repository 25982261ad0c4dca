// Reads an EPP's /metrics page over HTTP(S) with the metric reader's bearer token. Socket timeouts
// (not global timers), a size cap, and errors that name the URL and what went wrong.
import http from 'node:http';
import https from 'node:https';

export const DEFAULT_SCRAPE_TIMEOUT_MS = 2000;
/** A metrics page larger than this is not an EPP's. */
export const MAX_SCRAPE_BYTES = 8 * 1024 * 1024;

export class EppScrapeError extends Error {
  override name = 'EppScrapeError';
}

export type Scrape = (url: string, token: string | undefined) => Promise<string>;

/** A scraper over node's http/https. `timeoutMs` bounds the wait for each socket activity. */
export function httpScrape(timeoutMs = DEFAULT_SCRAPE_TIMEOUT_MS): Scrape {
  return (url, token) =>
    new Promise<string>((resolve, reject) => {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        reject(new EppScrapeError(`EPP metrics URL ${JSON.stringify(url)} is not a URL`));
        return;
      }
      const lib = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : undefined;
      if (!lib) {
        reject(new EppScrapeError(`EPP metrics URL ${url} must be http or https`));
        return;
      }
      const req = lib.request(
        parsed,
        { method: 'GET', headers: token ? { authorization: `Bearer ${token}` } : {} },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new EppScrapeError(`EPP at ${url} answered HTTP ${res.statusCode}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_SCRAPE_BYTES) {
              req.destroy(new EppScrapeError(`EPP at ${url} sent more than ${MAX_SCRAPE_BYTES} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', (err) => reject(new EppScrapeError(`EPP at ${url}: ${err.message}`)));
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(new EppScrapeError(`EPP at ${url} did not answer within ${timeoutMs} ms`)),
      );
      req.on('error', (err) =>
        reject(err instanceof EppScrapeError ? err : new EppScrapeError(`EPP at ${url}: ${err.message}`)),
      );
      req.end();
    });
}
