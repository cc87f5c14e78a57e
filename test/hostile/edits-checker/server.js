// Serves what its build saw, and whether the build's daemon outlived the build.
const fs = require('node:fs');
const http = require('node:http');

const report = JSON.parse(fs.readFileSync('dist/report.json', 'utf8'));
// Gone, or a zombie (killed, waiting for an init that does not reap) — either way not running.
let daemon = 'running';
try {
  const state = fs.readFileSync(`/proc/${report.daemonPid}/stat`, 'utf8').split(') ')[1][0];
  if (state === 'Z') daemon = 'dead';
} catch {
  daemon = 'dead';
}
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url === '/report' ? JSON.stringify({ ...report, daemon }) : '{"status":"ok"}');
  })
  .listen(Number(process.env.PORT));
