import http from 'node:http';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed events (comments are not frames). */
  frames: SseFrame[];
  /** The whole response body when it was not a stream (a problem document). */
  body: () => string;
  close: () => void;
}

/** Opens a Server-Sent Events stream and resolves once the first bytes arrived (or the error response ended). */
export function openStream(url: string, headers: Record<string, string>): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      let text = '';
      const frames: SseFrame[] = [];
      const stream: SseStream = { status: response.statusCode ?? 0, headers: response.headers, frames, body: () => text, close: () => request.destroy() };
      const isStream = String(response.headers['content-type']).startsWith('text/event-stream');
      let settled = false;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        if (isStream) {
          let end: number;
          while ((end = text.indexOf('\n\n')) !== -1) {
            const block = text.slice(0, end);
            text = text.slice(end + 2);
            const frame: SseFrame = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const [field, ...rest] = line.split(': ');
              if (field === 'id' || field === 'event' || field === 'data') frame[field] = rest.join(': ');
            }
            if (Object.keys(frame).length > 0) frames.push(frame);
          }
          if (!settled) {
            settled = true;
            resolve(stream);
          }
        }
      });
      response.on('end', () => {
        if (!settled) resolve(stream);
      });
      response.on('error', () => undefined);
    });
    request.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
  });
}
