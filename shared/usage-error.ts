/** A command-line usage mistake: the commands of both programs print it as one line and exit 2. */
export class UsageError extends Error {}
