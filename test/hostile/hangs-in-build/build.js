// Escapes into a session of its own holding our stdout and stderr, then hangs forever.
const { spawn } = require('node:child_process');

spawn('setsid', ['sh', '-c', 'while :; do echo hostile-escaped; sleep 1; done'], {
  stdio: ['ignore', 'inherit', 'inherit'],
}).unref();
setInterval(() => undefined, 1000);
