/** Keeps the last `maxBytes` of a process's output: an output flood must not eat memory. */
export class LogBuffer {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly maxBytes = 64 * 1024) {}

  append(chunk: Buffer | string): void {
    let text = chunk.toString();
    if (text.length > this.maxBytes) text = text.slice(-this.maxBytes);
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > this.maxBytes && this.chunks.length > 1)
      this.size -= this.chunks.shift()!.length;
    if (this.chunks.length > 256) this.chunks = [this.chunks.join('')];
  }

  /** The last `lines` lines (all kept output by default). */
  tail(lines = 40): string {
    const all = this.chunks.join('').slice(-this.maxBytes).split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n');
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
  }
}
