// Never reached: the build does not end.
require('node:http')
  .createServer((req, res) => res.end('{"status":"ok"}'))
  .listen(Number(process.env.PORT));
