import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  applyPatch,
  BROKEN_DIR,
  brokenWorkspace,
  removeWorkspace,
} from './support/grade-workspace';

const names = readdirSync(BROKEN_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('the broken catalogue patches', () => {
  it.each(names)(
    '%s applies to the current reference-app, in a copy without build output',
    (name) => {
      const dir = brokenWorkspace(name);
      try {
        expect(existsSync(path.join(dir, 'src'))).toBe(true);
        // A copied dist would run the unpatched reference whenever the checker's build cache skips the build.
        expect(existsSync(path.join(dir, 'dist'))).toBe(false);
      } finally {
        removeWorkspace(dir);
      }
    },
  );

  it('a patch that no longer applies fails with a message naming it', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'stale-patch-'));
    try {
      writeFileSync(path.join(tmp, 'app.ts'), 'export const a = 1;\n');
      const patchFile = path.join(tmp, 'change.patch');
      writeFileSync(
        patchFile,
        '--- a/app.ts\n+++ b/app.ts\n@@ -1 +1 @@\n-export const a = 2;\n+export const a = 3;\n',
      );
      expect(() => applyPatch(patchFile, tmp)).toThrow(
        /change\.patch does not apply .*regenerate it/s,
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
