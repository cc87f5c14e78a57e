import { gzipSync } from 'node:zlib';

/** One raw tar entry; `type` is the ustar type flag ('0' file, '1' hard link, '2' symlink, '3' char device, '5' dir, '6' FIFO). */
export interface RawEntry {
  name: string;
  type?: string;
  data?: Buffer | string;
  linkname?: string;
  /** Announced size when it must differ from the data (a lie in the header). */
  size?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** Writes a ustar archive byte by byte, so tests can make the entries no honest packer would (absolute paths, links, devices). */
export function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const header = Buffer.alloc(512, 0);
    header.write(e.name.slice(0, 100), 0, 'utf8');
    header.write(octal(0o644, 8), 100);
    header.write(octal(0, 8), 108);
    header.write(octal(0, 8), 116);
    header.write(octal(e.size ?? data.length, 12), 124);
    header.write(octal(0, 12), 136);
    header.write('        ', 148);
    header.write(e.type ?? '0', 156);
    if (e.linkname) header.write(e.linkname, 157);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512, 0));
  }
  blocks.push(Buffer.alloc(1024, 0));
  return Buffer.concat(blocks);
}

export const rawTarGz = (entries: RawEntry[]): Buffer => gzipSync(rawTar(entries));
