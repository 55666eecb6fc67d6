/**
 * A command-line usage mistake: the commands of both programs print it as one line and exit 2. With a
 * `code` (an FP_ code the servers give for the same mistake), the line carries it, as server errors do.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}
