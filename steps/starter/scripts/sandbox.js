#!/usr/bin/env node
'use strict';
// Runs the course's checker on this workspace: `npm run check -- --step 1`, `npm run sandbox -- hint`.
// It runs the checker of the course folder that `sandbox init` recorded (or $SANDBOX_COURSE), never
// anything from the npm registry. npm runs it from this workspace's root, whatever the subfolder.
const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');

const workspace = path.resolve(__dirname, '..');
const recorded = path.join(workspace, '.sandbox', 'course.json');

function courseFolder() {
  if (process.env.SANDBOX_COURSE) return path.resolve(process.env.SANDBOX_COURSE);
  if (!existsSync(recorded)) return undefined;
  try {
    const { course } = JSON.parse(readFileSync(recorded, 'utf8'));
    return typeof course === 'string' ? course : undefined;
  } catch {
    process.stderr.write(
      `${recorded} is not valid JSON: run \`npx sandbox init\` again or set SANDBOX_COURSE.\n`,
    );
    process.exit(2);
  }
}

const course = courseFolder();
const cli = course && path.join(course, 'checker', 'bin', 'sandbox.js');
if (!cli || !existsSync(cli)) {
  process.stderr.write(
    `The course folder (backend-sandbox) was not found${course ? ` at ${course}` : ''}.\n` +
      'Set SANDBOX_COURSE=/path/to/backend-sandbox, e.g. `SANDBOX_COURSE=../backend-sandbox npm run check`.\n',
  );
  process.exit(2);
}
// In this process (no extra child to forward Ctrl-C through): the checker's own bin, on this workspace.
process.env.SANDBOX_WORKSPACE = workspace;
process.argv = [process.argv[0], cli, ...process.argv.slice(2)];
require(cli);
