import { rmSync, type WriteStream } from 'node:fs';

/**
 * Removes what a failed run wrote to `partial` through `stream`. The stream opens its file
 * asynchronously: a failure on the first line can come before the open, which would then
 * create the file after it was removed. So it waits for the stream to close first.
 */
export async function discardPartialFile(stream: WriteStream, partial: string): Promise<void> {
  if (!stream.closed) {
    await new Promise<void>((resolve) => {
      stream.once('close', () => resolve());
      stream.destroy();
    });
  }
  rmSync(partial, { force: true });
}
