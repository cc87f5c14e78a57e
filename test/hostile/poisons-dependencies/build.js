// Runs as the run's uid. Tries to change node_modules/is-number in place (which would change every
// hard link of the file), then replaces it in its own copy, and records what happened.
const fs = require('node:fs');
const path = require('node:path');

const target = require.resolve('is-number');
const poison = '\nmodule.exports = () => "poisoned";\n';
const outcome = {};
try {
  fs.appendFileSync(target, poison);
  outcome.inPlace = 'written';
} catch (e) {
  outcome.inPlace = e.code || e.message;
}
try {
  fs.writeFileSync(`${target}.new`, `module.exports = () => "replaced";\n`);
  fs.renameSync(`${target}.new`, target);
  outcome.replaced = 'replaced';
} catch (e) {
  outcome.replaced = e.code || e.message;
}
fs.mkdirSync('dist', { recursive: true });
fs.writeFileSync(path.join('dist', 'outcome.json'), JSON.stringify(outcome));
