/**
 * How a finished command ends its process. `process.exit` drops whatever a piped stdout or stderr
 * still holds in the process (the kernel's pipe buffer full because the reader is slower than the
 * command): `publish` printed 778 of its 1,600 receipts and exited 0 under load. So the exit waits
 * until both streams have handed everything written so far to the kernel, then exits at once — a
 * command that returned is done, and idle timers of connections it closed must not keep it alive.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  // Set first: should the event loop empty while waiting, the process still ends with this code.
  process.exitCode = code;
  await Promise.all([process.stdout, process.stderr].map(flushed));
  process.exit(code);
}

/**
 * Resolves once `stream` holds nothing unwritten (or it broke). Polled: an empty write's callback is
 * not a flush signal on every Node version (Node 26 never called it, and the loop emptied with the
 * wrong exit code), and 'drain' comes only after a write that filled the buffer.
 */
async function flushed(stream: NodeJS.WriteStream): Promise<void> {
  while (stream.writableLength > 0 && !stream.destroyed) await new Promise((r) => setTimeout(r, 5));
}
