import { MAX_DIAGNOSTICS, TscOutput } from '../../src/sandbox/type-check';

const read = (...chunks: string[]): TscOutput => {
  const out = new TscOutput();
  for (const c of chunks) out.push(c);
  out.end();
  return out;
};

describe("TscOutput reads tsc's --pretty false output as it arrives", () => {
  it('takes file, line, column, code and message, with continuation lines, also across chunks', () => {
    const out = read(
      "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\r\n",
      "src/notes/notes.routes.ts(12,5): error TS2345: Argument of type '{ a: 1; }' is not ass",
      "ignable to parameter of type 'B'.\n  Property 'b' is missing in type '{ a: 1; }' but required in type 'B'.\n",
      "error TS5023: Unknown compiler option 'nope'.",
    );
    expect(out.errorCount).toBe(3);
    expect(out.errors).toEqual([
      {
        file: 'src/a.ts',
        line: 3,
        column: 7,
        code: 'TS2322',
        message: "Type 'string' is not assignable to type 'number'.",
      },
      {
        file: 'src/notes/notes.routes.ts',
        line: 12,
        column: 5,
        code: 'TS2345',
        message:
          "Argument of type '{ a: 1; }' is not assignable to parameter of type 'B'.\n  Property 'b' is missing in type '{ a: 1; }' but required in type 'B'.",
      },
      { file: '', line: 0, column: 0, code: 'TS5023', message: "Unknown compiler option 'nope'." },
    ]);
  });

  it('counts every error but keeps only the first ones, each bounded, whatever the output holds', () => {
    const lines = Array.from(
      { length: 500 },
      (_, i) => `src/x${i}.ts(1,1): error TS1005: ${'x'.repeat(5000)}\n`,
    );
    const out = read('some noise the compiler did not write\n', ...lines, 'a last line\n');
    expect(out.errorCount).toBe(500);
    expect(out.errors).toHaveLength(MAX_DIAGNOSTICS);
    expect(out.errors.every((e) => e.message.length <= 600)).toBe(true);
    expect(out.errors[0]?.file).toBe('src/x0.ts');
  });

  it('finds no error in output without any (a clean run, or a crash: the caller tells them apart by the exit code)', () => {
    expect(read('').errorCount).toBe(0);
    expect(
      read('TypeError: cannot read properties of undefined\n    at tsc.js:1:1\n').errors,
    ).toEqual([]);
  });
});
