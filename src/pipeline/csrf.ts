import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { CSRF_HEADERS, HardeningCode } from './codes.js';

export function useCsrf(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: CSRF_HEADERS });
  return {
    onRequestParse(payload) {
      try {
        return csrf.onRequestParse?.(payload);
      } catch {
        throw createGraphQLError(
          `Send a Content-Type of application/json, or one of the headers ${CSRF_HEADERS.join(', ')}.`,
          {
            extensions: { code: HardeningCode.CSRF_HEADER_REQUIRED, http: { status: 403 } },
          },
        );
      }
    },
  };
}
