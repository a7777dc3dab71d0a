// GraphQL errors shown to shoppers, chosen by `extensions.code` (the gateway's error
// catalogue, @trellis/errors): each code gets a sentence; the code itself is shown too, for
// support. Partial data (a subgraph down) renders with a notice rather than an error page.
import { h } from './dom.ts';
import type { GraphQLError } from './graphql-client.ts';

const MESSAGES: Record<string, string> = {
  QUERY_TOO_COMPLEX: 'This request asks for too much at once. Try a smaller page.',
  SUBGRAPH_UNAVAILABLE: 'Part of the shop is unavailable right now; what we have is shown.',
  TIMEOUT: 'Part of the shop took too long to answer; what we have is shown.',
  UNAUTHENTICATED: 'Please sign in (again): your session is missing or has expired.',
  FORBIDDEN: 'You are not allowed to do that.',
  NOT_FOUND: 'Not found.',
  RATE_LIMITED: 'Too many requests: wait a moment and try again.',
  BAD_USER_INPUT: 'The request was not valid.',
  PERSISTED_QUERY_NOT_FOUND: 'This version of the shop is out of date: reload the page.',
  INTERNAL_SERVER_ERROR: 'Something went wrong on our side.',
};

export const codeOf = (error: GraphQLError) => error.extensions?.code ?? 'INTERNAL_SERVER_ERROR';

/** A notice listing each distinct error code once, with its sentence. */
export function renderErrors(errors: GraphQLError[]): HTMLElement | null {
  if (errors.length === 0) return null;
  const codes = [...new Set(errors.map(codeOf))];
  return h(
    'div',
    { class: 'errors', role: 'alert' },
    ...codes.map((code) =>
      h(
        'p',
        { 'data-code': code },
        MESSAGES[code] ?? errors.find((e) => codeOf(e) === code)?.message,
        ' ',
        h('code', {}, code),
      ),
    ),
  );
}
