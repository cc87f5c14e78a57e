#!/usr/bin/env node
'use strict';
// The `sandbox` command: runs the compiled checker (checker/dist, built by `npm install` through the root prepare script).
const { existsSync } = require('node:fs');
const path = require('node:path');

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write(
    'The checker is not built yet: run `npm install` at the root of backend-sandbox (it builds checker/dist).\n',
  );
  process.exit(2);
}
require(cli).main(process.argv);
