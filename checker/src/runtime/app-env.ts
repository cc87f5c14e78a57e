import { randomBytes, randomInt } from 'node:crypto';
import type { Services } from '../services/local-services';

/**
 * What differs from run to run besides ports and data, so that an app cannot recognise the
 * checker by fixed values. Every value stays inside the range the checks are written for, so
 * verdicts do not depend on the draw.
 */
export interface RunVariables {
  jwtSecret: string;
  /** JOB_BACKOFF_MS: 200..300 (the backoff check measures gaps in multiples of it; a hard-coded 100 or 1000 never fits, even on a loaded machine). */
  jobBackoffMs: number;
  /** WS_HEARTBEAT_MS: 400..700. */
  wsHeartbeatMs: number;
  /**
   * VERIFY_TOKEN_TTL_SECONDS: 5..7. The expiry check waits it out beside the other checks of its
   * step, and its wait is the longest of the course: the shorter, the faster the course. The
   * other checks verify their tokens within a second or two of signup, even on a loaded machine.
   */
  verifyTokenTtlSeconds: number;
  /** MAIL_FROM: a random mailbox on a random .test domain. */
  mailFrom: string;
  /** PORT inside an app container (1024..65535; the process runtime takes a free host port instead). */
  containerPort: number;
  /** The host of PUBLIC_URL: a random name under a reserved top-level domain, never the address the checker calls. */
  publicHost: string;
}

const word = (n: number): string =>
  randomBytes(n)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')
    .slice(0, n);

/** Reserved for testing and documentation (RFC 2606/6761): a drawn name never reaches a real host. */
const PUBLIC_TLDS = ['test', 'example', 'localhost'] as const;

export function drawRunVariables(): RunVariables {
  return {
    jwtSecret: randomBytes(48).toString('base64url').slice(0, 48),
    jobBackoffMs: randomInt(200, 301),
    wsHeartbeatMs: randomInt(400, 701),
    verifyTokenTtlSeconds: randomInt(5, 8),
    mailFrom: `Sandbox <no-reply-${word(4)}@${word(6)}.test>`,
    containerPort: randomInt(1024, 65536),
    publicHost: `${word(8)}.${PUBLIC_TLDS[randomInt(PUBLIC_TLDS.length)]}`,
  };
}

/** The variables of steps/CONTRACT.md, for an app on `port`. */
export function appEnv(services: Services, port: number, v: RunVariables): Record<string, string> {
  return {
    PORT: String(port),
    DATABASE_URL: services.appDatabaseUrl,
    REDIS_URL: services.appRedisUrl,
    JWT_SECRET: v.jwtSecret,
    SMTP_URL: services.mail.url,
    MAIL_FROM: v.mailFrom,
    PUBLIC_URL: `http://${v.publicHost}:${port}`,
    JOB_BACKOFF_MS: String(v.jobBackoffMs),
    BCRYPT_COST: '10', // optional in the contract; the lowest cost the step 3 check accepts keeps grading fast
    WS_HEARTBEAT_MS: String(v.wsHeartbeatMs),
    VERIFY_TOKEN_TTL_SECONDS: String(v.verifyTokenTtlSeconds),
    NODE_ENV: 'production',
  };
}
