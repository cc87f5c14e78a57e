// Runs `sandbox ARGS...` from source, then writes the modules it loaded to $MODULES_OUT (JSON).
import { writeFileSync } from 'node:fs';
import { main } from '../../../src/cli';

process.on('exit', () => {
  writeFileSync(
    process.env['MODULES_OUT'] ?? '/dev/null',
    JSON.stringify(Object.keys(require.cache)),
  );
});
void main(['node', 'sandbox', ...process.argv.slice(2)]);
