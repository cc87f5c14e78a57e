// Answers /health, and /probe with what the build managed and what is-number now says.
const fs = require('node:fs');
const http = require('node:http');

http
  .createServer((req, res) => {
    if (req.url === '/health') {
      res.setHeader('content-type', 'application/json');
      return res.end('{"status":"ok"}');
    }
    const outcome = JSON.parse(fs.readFileSync('dist/outcome.json', 'utf8'));
    let isNumber;
    try {
      isNumber = String(require('is-number')(5));
    } catch (e) {
      isNumber = e.code || e.message;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ...outcome, isNumber }));
  })
  .listen(Number(process.env.PORT));
