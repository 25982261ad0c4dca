import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isSecretKey, parseLogLevel, scrubSecrets } from '../../src/telemetry/logger.js';

const SECRET = 'sk-live-9f8e7d6c5b4a';

function capture(level = 'debug') {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const logger = createLogger({ level, destination: stream });
  return {
    logger,
    lines: () =>
      text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => text,
  };
}

describe('logger', () => {
  it('never writes a bearer token, client key or Authorization header, at any depth', () => {
    const { logger, text, lines } = capture();
    const config = {
      prometheus: {
        url: 'https://prom:9090',
        bearerToken: SECRET,
        tokenPath: '/var/run/token',
        headers: { Authorization: `Bearer ${SECRET}`, 'X-Scope-OrgID': 'team-a' },
      },
    };
    logger.info({ config }, 'configuration loaded');
    logger.info({ headers: { authorization: `Bearer ${SECRET}` } }, 'request');
    logger.warn({ data: { PROMETHEUS_BEARER_TOKEN: SECRET, PROMETHEUS_BASE_URL: 'https://p' } }, 'configmap');
    logger.error({ tls: { clientKey: `-----BEGIN KEY-----${SECRET}` } }, 'tls');
    logger.error(
      { err: new Error(`request failed with header Authorization: Bearer ${SECRET}`) },
      'query failed',
    );
    logger.info({}, `sent Bearer ${SECRET} upstream`);
    logger.child({ token: SECRET }).info({ model: 'm' }, 'child');
    logger.info({ url: `https://admin:${SECRET}@prom:9090/api` }, 'url with password');
    expect(text()).not.toContain(SECRET);
    expect(text()).toContain('[redacted]');
    const [first] = lines();
    // Non-secret fields stay readable.
    expect(first).toMatchObject({
      msg: 'configuration loaded',
      config: { prometheus: { url: 'https://prom:9090', tokenPath: '/var/run/token' } },
    });
    expect(JSON.stringify(first)).toContain('team-a');
    const errLine = lines().find((l) => l.msg === 'query failed');
    expect(errLine?.err).toMatchObject({
      type: 'Error',
      message: expect.stringContaining('Bearer [redacted]'),
    });
  });

  it('leaves objects without secrets untouched (no copy)', () => {
    const obj = { model: 'llama', namespace: 'prod', nested: { a: [1, 2, { b: 'x' }] } };
    expect(scrubSecrets(obj)).toBe(obj);
    const withSecret = { a: { token: 'x' } };
    const scrubbed = scrubSecrets(withSecret);
    expect(scrubbed).toEqual({ a: { token: '[redacted]' } });
    expect(withSecret.a.token).toBe('x'); // the caller's object is not changed
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(() => scrubSecrets(a)).not.toThrow();
  });

  it('recognises secret keys in any spelling', () => {
    expect(isSecretKey('PROMETHEUS_BEARER_TOKEN')).toBe(true);
    expect(isSecretKey('bearer-token')).toBe(true);
    expect(isSecretKey('Authorization')).toBe(true);
    expect(isSecretKey('tokenPath')).toBe(false);
    expect(isSecretKey('clientKeyPath')).toBe(false);
  });

  it('filters by level, and children follow a later level change', () => {
    const { logger, lines } = capture('info');
    const child = logger.child({ component: 'cache' });
    child.debug({ n: 1 }, 'hidden');
    logger.level = 'debug';
    child.debug({ n: 2 }, 'shown');
    logger.level = 'error';
    child.warn({ n: 3 }, 'hidden');
    expect(lines().map((l) => l.n)).toEqual([2]);
    expect(lines()[0]).toMatchObject({ component: 'cache', level: 20 });
  });

  it('parses LOG_LEVEL strictly', () => {
    expect(parseLogLevel(undefined)).toBe('info');
    expect(parseLogLevel(' DEBUG ')).toBe('debug');
    expect(() => parseLogLevel('verbose')).toThrow(/debug, info, warn, error/);
  });
});

describe('logger: what the scrubber must not let through', () => {
  it('a circular reference does not carry a secret past the scrubber', () => {
    const { logger, text } = capture();
    const a: Record<string, unknown> = { token: SECRET, note: 'loop' };
    a.self = a;
    const b: Record<string, unknown> = { inner: { token: SECRET } };
    (b.inner as Record<string, unknown>).up = b;
    logger.info({ a, b }, 'circular');
    expect(text()).not.toContain(SECRET);
    expect(text()).toContain('[Circular]');
    // The same object twice, not in a cycle, is written twice.
    const shared = { model: 'm' };
    logger.info({ x: shared, y: shared }, 'twice');
    expect(text().match(/"model":"m"/g)).toHaveLength(2);
  });

  it('an object deeper than the scrub depth is cut off, not written unscrubbed', () => {
    const { logger, text } = capture();
    let deep: Record<string, unknown> = { token: SECRET, password: SECRET };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    logger.info({ deep }, 'deep');
    expect(text()).not.toContain(SECRET);
  });

  it('Basic credentials in any string lose their token, as Bearer ones do', () => {
    const base64 = Buffer.from(`alice:${SECRET}`).toString('base64');
    expect(scrubSecrets(`proxy said: Authorization: Basic ${base64}`)).toBe(
      'proxy said: Authorization: Basic [redacted]',
    );
    expect(scrubSecrets('Basic settings apply')).toBe('Basic settings apply');
  });
});
