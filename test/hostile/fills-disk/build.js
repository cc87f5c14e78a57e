// Writes real (not sparse) data, file after file, until something stops it.
const fs = require('node:fs');

const chunk = Buffer.alloc(8 * 1024 * 1024, 7);
for (let i = 0; ; i++) {
  const fd = fs.openSync(`junk-${i}`, 'w');
  for (let j = 0; j < 16; j++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}
