import type { Exchange } from '../harness/api';
import { isCheckFailure } from '../harness/failure';
import type { CheckStatus, FailureDetails } from './types';

/** Errors that mean the check's own code is broken, not the app. */
const PROGRAMMING_ERRORS = new Set([
  'TypeError',
  'ReferenceError',
  'SyntaxError',
  'RangeError',
  'EvalError',
  'URIError',
]);
const MAX_BODY = 2000;

export interface ClassifiedError {
  status: Exclude<CheckStatus, 'pass'>;
  message: string;
  details: FailureDetails;
  hint?: string;
  /** The CheckFailure was definite: no other check could have caused it. */
  definite?: boolean;
}

/** Turns whatever a check threw into a status, a message and the parts reporters lay out. */
export function classifyError(e: unknown): ClassifiedError {
  if (isCheckFailure(e)) {
    const details = failureDetails(e.summary, e.details);
    return {
      status: 'fail',
      message: formatFailure(details),
      details,
      hint: e.details.hint,
      ...(e.details.definite === true ? { definite: true } : {}),
    };
  }
  if (e instanceof Error || isErrorLike(e)) {
    if (PROGRAMMING_ERRORS.has(e.name) || isCheckerSetupError(e)) {
      const summary = `the check itself broke: ${e.name}: ${e.message}${firstFrame(e.stack)}`;
      return { status: 'error', message: summary, details: { summary } };
    }
    return { status: 'fail', message: e.message, details: { summary: e.message } };
  }
  const summary = `the check itself broke: it threw ${String(e)}`;
  return { status: 'error', message: summary, details: { summary } };
}

function isErrorLike(e: unknown): e is Error {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as Error).message === 'string' &&
    typeof (e as Error).name === 'string'
  );
}

function isCheckerSetupError(e: Error): boolean {
  return (e as { kind?: unknown }).kind === 'checker';
}

function firstFrame(stack: string | undefined): string {
  const frame = stack?.split('\n').find((line) => line.trim().startsWith('at '));
  return frame ? ` (${frame.trim()})` : '';
}

function failureDetails(
  summary: string,
  d: { exchange?: Exchange; expected?: string; observed?: string },
): FailureDetails {
  const details: FailureDetails = { summary };
  if (d.exchange) {
    const { request, response } = d.exchange;
    details.request = { method: request.method, url: request.url, headers: request.headers };
    if (request.body !== undefined) details.request.body = truncate(request.body);
    details.response = {
      status: response.status,
      headers: response.headers,
      body: truncate(response.text),
    };
  }
  if (d.expected !== undefined) details.expected = d.expected;
  if (d.observed !== undefined) details.observed = d.observed;
  return details;
}

function truncate(text: string): string {
  return text.length > MAX_BODY
    ? `${text.slice(0, MAX_BODY)}... (${text.length - MAX_BODY} more characters)`
    : text;
}

/** The failure as plain text: summary, request sent, response received, expected, observed. */
export function formatFailure(d: FailureDetails): string {
  const lines = [d.summary];
  if (d.request) {
    lines.push(`request sent: ${d.request.method} ${d.request.url}`);
    lines.push(...headerLines(d.request.headers));
    if (d.request.body) lines.push(...indent(d.request.body));
  }
  if (d.response) {
    lines.push(`response received: ${d.response.status}`);
    lines.push(...headerLines(d.response.headers));
    if (d.response.body) lines.push(...indent(d.response.body));
  }
  if (d.expected) lines.push(`expected: ${d.expected}`);
  if (d.observed) lines.push(`observed: ${d.observed}`);
  return lines.join('\n');
}

/** Headers that change on every run and say nothing about the failure. */
export const NOISY_HEADERS = new Set(['date', 'connection', 'keep-alive', 'etag']);

function headerLines(headers: Record<string, string>): string[] {
  return Object.entries(headers)
    .filter(([name]) => !NOISY_HEADERS.has(name.toLowerCase()))
    .map(([name, value]) => `  ${name}: ${value}`);
}

function indent(text: string): string[] {
  return text.split('\n').map((line) => `  ${line}`);
}
