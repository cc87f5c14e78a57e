import readline from 'node:readline';

/** Asks one question on the terminal; with `secret`, what is typed is not echoed. */
export function ask(question: string, secret = false): Promise<string> {
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
  });
  if (secret) {
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    out._writeToOutput = (s: string) => {
      if (s.startsWith(question)) process.stdout.write(question);
      else if (s.includes('\n') || s.includes('\r')) process.stdout.write('\n');
    };
  }
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer.trim());
    });
  });
}
