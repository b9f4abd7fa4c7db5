import http from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, KernelError } from '../errors.ts';

/**
 * Requests Node's HTTP server refuses before any route sees them. Header fields past its
 * limit (`maxHeaderSize`, 16 KiB by default) get the API's JSON error body with their 431
 * (RFC 6585 §5), where Node alone sends none; every other client error gets Node's own bare
 * answer, as it would without this listener (Node.js HTTP docs, "Event: 'clientError'").
 * No route has run, so the path is unknown: a page gets the JSON too.
 */
export function answerClientErrors(server: http.Server): void {
  // The server's own limit when it was given one (Node keeps it as `maxHeaderSize`).
  const limitBytes = (server as { maxHeaderSize?: number }).maxHeaderSize ?? http.maxHeaderSize;
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // The parser reports again as the rest of a refused request arrives: answer once, and
    // let the rest drain, so the caller reads the answer rather than a reset connection.
    if (answered.has(socket)) return;
    answered.add(socket);
    setTimeout(() => socket.destroy(), 10_000).unref();
    // A response already under way on this connection cannot be followed by another.
    const inFlight = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(answerFor(error, limitBytes));
  });
}

function answerFor(error: NodeJS.ErrnoException, limitBytes: number): string {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const body = JSON.stringify(
      errorBody(
        new KernelError(
          'headers-too-large',
          `The request’s header fields are larger than the ${Math.round(limitBytes / 1024)} KiB allowed`,
          { hint: 'Send smaller headers: a browser can clear this site’s cookies' },
        ),
      ),
    );
    return [
      'HTTP/1.1 431 Request Header Fields Too Large',
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      'X-Content-Type-Options: nosniff',
      'Connection: close',
      '',
      body,
    ].join('\r\n');
  }
  // Node's own answers (lib/_http_server.js): 408 for a request too slow to arrive, 413 for
  // chunk extensions too large, 400 for anything else it cannot parse.
  const status =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 408
      : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
        ? 413
        : 400;
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`;
}
