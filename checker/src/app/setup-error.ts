/** The run could not be prepared. 'checker' -> exit 2; 'submission' -> every selected check fails with this message. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
  constructor(
    readonly kind: 'checker' | 'submission',
    readonly code: string,
    message: string,
    readonly logs?: string,
  ) {
    super(message);
  }
}
