// Serves what its build could reach.
const fs = require('node:fs');
const http = require('node:http');

const report = fs.readFileSync('dist/report.json', 'utf8');
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url === '/report' ? report : '{"status":"ok"}');
  })
  .listen(Number(process.env.PORT));
