// GraphQL over WebSocket (the graphql-ws protocol) on the HTTP server's /graphql, for clients that
// subscribe that way; SSE needs nothing more than yoga. Every operation goes through the same
// envelop as HTTP (validation, limits, scopes, the read planner for queries), and the connection's
// `authorization` parameter is the bearer credential a request's header would be.
import type { Server } from 'node:http';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { type App, GRAPHQL_PATH } from './yoga.js';

export function serveWebSockets(server: Server, yoga: App) {
  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH });
  const handle = useServer(
    {
      execute: (args) => (args.rootValue as { execute: (a: typeof args) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: typeof args) => unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, params) => {
        const given = ctx.connectionParams?.authorization;
        const request = new Request(`http://websocket${GRAPHQL_PATH}`, {
          headers: typeof given === 'string' ? { authorization: given } : {},
        });
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          request,
          req: ctx.extra.request,
          params,
        });
        let document: ReturnType<typeof parse>;
        try {
          document = parse(params.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors;
        try {
          const contextValue = await contextFactory();
          return {
            schema,
            document,
            operationName: params.operationName,
            variableValues: params.variables,
            contextValue,
            rootValue: { execute, subscribe },
          };
        } catch (error) {
          // A token that identifies no one: the same UNAUTHENTICATED a request gets.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
    },
    wss,
  );
  return {
    async close() {
      await handle.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
