/**
 * How a finished command ends its process. `process.exit` drops whatever a piped stdout or stderr
 * still holds in the process (the kernel's pipe buffer full because the reader is slower than the
 * command): `publish` printed 778 of its 1,600 receipts and exited 0 under load. So the exit waits
 * until both streams have handed everything written so far to the kernel, then exits at once — a
 * command that returned is done, and idle timers of connections it closed must not keep it alive.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map(flushed));
  process.exit(code);
}

/** Resolves once everything written to `stream` before this call is written out (or it failed). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    // Writes complete in order: the callback of an empty write runs after all earlier ones.
    stream.write('', () => resolve());
  });
}
