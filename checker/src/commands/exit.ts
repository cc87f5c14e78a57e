/** Exit codes of every command: 0 all good, 1 a check failed, 2 the checker could not do its job, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). */
export const EXIT = {
  ok: 0,
  failed: 1,
  cannotGrade: 2,
  interrupted: 130,
  terminated: 143,
} as const;

/** Exits once stdout and stderr have flushed (a piped stdout would otherwise lose the end of the report). */
export async function exitAfterFlush(code: number): Promise<never> {
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}
