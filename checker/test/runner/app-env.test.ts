import { appEnv, drawRunVariables } from '../../src/runtime/app-env';
import type { Services } from '../../src/services/local-services';

const services = {
  appDatabaseUrl: 'postgres://app:pw@127.0.0.1:5433/app',
  appRedisUrl: 'redis://127.0.0.1:6380/0',
  mail: { url: 'smtp://127.0.0.1:2526' },
} as unknown as Services;

describe('the run variables an app could otherwise recognise', () => {
  it('draws the container PORT and the PUBLIC_URL host anew for every run', () => {
    const draws = Array.from({ length: 20 }, drawRunVariables);
    expect(new Set(draws.map((v) => v.containerPort)).size).toBeGreaterThan(1);
    expect(new Set(draws.map((v) => v.publicHost)).size).toBe(20);
    for (const v of draws) {
      expect(v.containerPort).toBeGreaterThanOrEqual(1024);
      expect(v.containerPort).toBeLessThanOrEqual(65535);
      expect(v.publicHost).toMatch(/^[a-z0-9]{8}\.(test|example|localhost)$/);
    }
  });

  it('gives PUBLIC_URL the drawn host and the app’s port, never the address the checker calls', () => {
    const v = drawRunVariables();
    const env = appEnv(services, 41234, v);
    expect(env.PORT).toBe('41234');
    expect(env.PUBLIC_URL).toBe(`http://${v.publicHost}:41234`);
    expect(new URL(env.PUBLIC_URL ?? '').hostname).not.toMatch(/^(localhost|127\.0\.0\.1)$/);
  });
});
