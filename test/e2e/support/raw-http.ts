import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * One request written byte for byte on a socket (a Host header, invalid UTF-8, a header
 * block over the server's limit, a Content-Length larger than what is sent: things fetch
 * will not send), the answer read to the end. `head` is the request line and headers,
 * lines separated by `\n`. A write error after the answer came (the server closed the
 * socket on a body it refused) is not a failure.
 */
export function raw(
  port: number,
  head: string,
  body: Buffer = Buffer.alloc(0),
  options: { declaredLength?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => {
      if (chunks.length === 0) reject(error);
    });
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [headText, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = headText.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text: rest.join('\r\n\r\n') });
    });
    const length = options.declaredLength ?? body.length;
    // Not half-closed (end()): Node's server would end the socket before a slow answer.
    socket.write(
      `${head.replace(/\n/g, '\r\n')}\r\nConnection: close\r\nContent-Length: ${length}\r\n\r\n`,
    );
    socket.write(body);
  });
}
