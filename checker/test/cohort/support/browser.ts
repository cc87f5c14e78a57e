import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`, done by .ci/run); never a downloaded browser. */
export const CHROMIUM = process.env['SANDBOX_CHROMIUM'] ?? '/usr/bin/chromium';

/** Screenshots of each page, kept as test artifacts (git ignores the folder). */
export const ARTIFACTS = path.join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'test-artifacts',
  'dashboard',
);

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** A headless Chromium with a fresh profile folder; close() removes it. A missing browser fails the test (never skips it). */
export async function launchBrowser(): Promise<{
  context: BrowserContext;
  close(): Promise<void>;
}> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); the dashboard's browser tests need it`,
    );
  mkdirSync(ARTIFACTS, { recursive: true });
  const profile = mkdtempSync(path.join(os.tmpdir(), 'dashboard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1366, height: 800 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
