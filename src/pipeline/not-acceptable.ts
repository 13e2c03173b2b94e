import type { Plugin } from 'graphql-yoga';

/**
 * Yoga answers 406 with an empty body when no media type the request accepts can carry the result:
 * a `@defer`/`@stream` operation asked for as one JSON answer, or any operation asked for as, say,
 * `text/html`. This says so in a GraphQL error the client can read.
 */
export function useNotAcceptable(): Plugin {
  return {
    onResponse({ request, response, setResponse }) {
      if (response.status !== 406 || response.headers.get('content-type')) return;
      const message =
        `Nothing the Accept header allows (${request.headers.get('accept') ?? 'none'}) can carry this answer: ` +
        'an operation with @defer or @stream needs multipart/mixed or text/event-stream; ' +
        'any other, application/graphql-response+json or application/json.';
      setResponse(
        new Response(JSON.stringify({ errors: [{ message, extensions: { code: 'NOT_ACCEPTABLE' } }] }), {
          status: 406,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
      );
    },
  };
}
