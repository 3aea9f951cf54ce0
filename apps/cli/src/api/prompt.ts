import { createInterface } from 'node:readline';
import { UsageError } from '../errors';
import { Writable } from 'node:stream';

/** Reads one line from the terminal; `hidden` echoes nothing (for passwords). */
export function ask(question: string, hidden = false): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      if (hidden) process.stderr.write('\n');
      resolve(answer.trim());
    });
    muted = hidden;
  });
}

/** All of standard input, trimmed (a password piped in: `echo pw | dbaas login ...`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** A new user's password: DBAAS_NEW_USER_PASSWORD, else standard input (not a terminal). */
export async function readNewUserPassword(): Promise<string> {
  let password = process.env.DBAAS_NEW_USER_PASSWORD;
  if (!password) {
    if (process.stdin.isTTY)
      throw new UsageError('set DBAAS_NEW_USER_PASSWORD or pipe the password on standard input');
    password = (await readStdin()).trim();
  }
  if (password.length < 6) throw new UsageError('the password must have at least 6 characters');
  return password;
}
