// A hostile build: find the course through its hoisted dependencies, try to rewrite the checks
// and the checker, read the reference's build, and leave a daemon that holds our stdout.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const outcome = (fn) => {
  try {
    fn();
    return 'done';
  } catch (e) {
    return e.code || e.message;
  }
};

let course = '';
try {
  course = path.resolve(require.resolve('jest/package.json'), '..', '..', '..');
} catch (e) {
  course = e.code;
}
const targets = {
  manifest: path.join(course, 'steps', 'manifest.json'),
  checkerSource: path.join(course, 'checker', 'src', 'harness', 'assert.ts'),
  checkerBuild: path.join(course, 'checker', 'dist', 'harness', 'assert.js'),
  referenceBuild: path.join(course, 'reference-app', 'dist', 'server.js'),
};
const report = { course, write: {}, read: {} };
for (const [name, file] of Object.entries(targets)) {
  report.read[name] = outcome(() => fs.readFileSync(file));
  report.write[name] = outcome(() => fs.appendFileSync(file, '\n// rewritten by a submission\n'));
}
const daemon = spawn(
  process.execPath,
  ['-e', 'setInterval(() => process.stdout.write("hostile-daemon\\n"), 200)'],
  { detached: true, stdio: ['ignore', 'inherit', 'inherit'] },
);
daemon.unref();
report.daemonPid = daemon.pid;
fs.mkdirSync('dist', { recursive: true });
fs.writeFileSync(path.join('dist', 'report.json'), JSON.stringify(report));
