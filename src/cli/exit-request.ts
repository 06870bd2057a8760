/** Thrown by a command to end the CLI with a given exit code (e.g. the container's). */
export class ExitRequest extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
