import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { HardeningCode } from './codes.js';

function bodyTooLarge(limit: number) {
  return createGraphQLError(`Request body is larger than ${limit} bytes.`, {
    extensions: { code: HardeningCode.REQUEST_ENTITY_TOO_LARGE, http: { status: 413 } },
  });
}

function invalidContentLength() {
  return createGraphQLError('Content-Length header is invalid.', {
    extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
  });
}

/**
 * The body limit, lower for requests without an admin key (yoga's own, which pipes every body
 * through a counting stream, is off). A body with a Content-Length is judged by the header alone:
 * the HTTP parser never delivers more than it announces. Only a chunked body is counted as it streams.
 */
export function useBodyLimit(
  limits: { anyone: number; admin: number },
  isAdmin: (request: Request) => boolean,
): Plugin {
  const limitOf = (request: Request) => (isAdmin(request) ? limits.admin : limits.anyone);
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get('content-length');
      if (length !== null) {
        // One non-negative integer: a list ("10, 20") or a sign is a smuggling attempt, not a size.
        if (!/^\d+$/.test(length)) throw invalidContentLength();
        const limit = Number(length) > limits.anyone ? limitOf(request) : limits.anyone;
        if (Number(length) > limit) throw bodyTooLarge(limit);
        return;
      }
      if (!requestParser || !request.body) return;
      const limit = limitOf(request);
      const parseRequest = requestParser;
      setRequestParser((req) => {
        if (!req.body) return parseRequest(req);
        let read = 0;
        // As yoga does: a native stream needs the native TransformStream.
        const Transform = req.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const body = req.body.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limit) controller.error(bodyTooLarge(limit));
              else controller.enqueue(chunk);
            },
          }),
        );
        const init: RequestInit & { duplex: 'half' } = {
          method: req.method,
          headers: req.headers,
          signal: req.signal,
          body,
          duplex: 'half',
        };
        return parseRequest(new fetchAPI.Request(req.url, init));
      });
    },
  };
}
