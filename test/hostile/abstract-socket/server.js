// Serves what its build could reach, and on /app tries the machine's abstract unix socket itself.
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');

const report = fs.readFileSync('dist/report.json', 'utf8');
const name = fs.readFileSync('abstract.txt', 'utf8').trim();

function attempt(target) {
  return new Promise((resolve) => {
    const s = net.connect(target);
    s.setTimeout(2000, () => (s.destroy(), resolve('timeout')));
    s.once('connect', () => (s.destroy(), resolve('connected')));
    s.once('error', (e) => resolve(e.code || e.message));
  });
}

// One of its own, to show that only the machine's sockets are out of reach.
const own = `${name}-own-${process.pid}`;
net.createServer((s) => s.destroy()).listen({ path: `\0${own}` });

http
  .createServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url === '/report') return res.end(report);
    if (req.url === '/app')
      return res.end(
        JSON.stringify({
          abstract: await attempt({ path: `\0${name}` }),
          own: await attempt({ path: `\0${own}` }),
        }),
      );
    res.end('{"status":"ok"}');
  })
  .listen(Number(process.env.PORT));
