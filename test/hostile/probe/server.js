// A hostile submission: answers /health, and on /probe tries whatever the test asks for
// (connections, file reads, other processes' environment) and reports what happened.
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');

function connect(target) {
  return new Promise((resolve) => {
    const socket = net.connect(target);
    const done = (outcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(2000, () => done('timeout'));
    socket.once('connect', () => done('connected'));
    socket.once('error', (e) => done(e.code || e.message));
  });
}

function read(file) {
  try {
    fs.readFileSync(file);
    return 'read';
  } catch (e) {
    return e.code || e.message;
  }
}

function write(target) {
  try {
    fs.writeFileSync(target.path, Buffer.alloc(target.bytes, 1));
    return 'written';
  } catch (e) {
    return e.code || e.message;
  } finally {
    fs.rmSync(target.path, { force: true });
  }
}

async function probe(q) {
  return {
    pid: process.pid,
    cwd: process.cwd(),
    uid: process.getuid(),
    gid: process.getgid(),
    groups: process.getgroups(),
    connect: await Promise.all((q.connect || []).map(connect)),
    read: (q.read || []).map(read),
    list: (q.list || []).map((d) => {
      try {
        return fs.readdirSync(d).length;
      } catch (e) {
        return e.code;
      }
    }),
    names: (q.names || []).map((d) => {
      try {
        return fs.readdirSync(d).sort();
      } catch (e) {
        return e.code;
      }
    }),
    write: (q.write || []).map(write),
    signal: (q.signal || []).map((pid) => {
      try {
        process.kill(pid, 0);
        return 'signalled';
      } catch (e) {
        return e.code;
      }
    }),
  };
}

http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/probe') {
      probe(JSON.parse(url.searchParams.get('q') || '{}')).then((r) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(r));
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
  })
  .listen(Number(process.env.PORT));
