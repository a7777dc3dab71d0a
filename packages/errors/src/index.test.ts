import { describe, expect, it } from 'vitest';
import { ErrorCode, httpStatusFor, maskError } from './index.ts';

describe('maskError', () => {
  it('keeps errors that carry one of our codes, without stack traces', () => {
    const masked = maskError(
      { message: 'bad cursor', path: ['products'], extensions: { code: 'BAD_USER_INPUT', stacktrace: ['x'] } },
      { exposeInternals: false },
    );
    expect(masked).toEqual({ message: 'bad cursor', path: ['products'], extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('masks unexpected errors outside development, with the trace id', () => {
    const masked = maskError(
      { message: 'relation "x" does not exist', path: ['a'], extensions: { stacktrace: ['at db'] } },
      { exposeInternals: false, traceId: 'abc123' },
    );
    expect(masked).toEqual({
      message: 'Internal server error',
      path: ['a'],
      extensions: { code: 'INTERNAL_SERVER_ERROR', traceId: 'abc123' },
    });
  });

  it('shows unexpected errors in development, still without stack traces', () => {
    const masked = maskError({ message: 'boom', extensions: { stacktrace: ['x'] } }, { exposeInternals: true });
    expect(masked).toEqual({ message: 'boom', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });
});

describe('httpStatusFor', () => {
  it('maps every code to a status', () => {
    for (const code of Object.values(ErrorCode)) expect(httpStatusFor(code)).toBeGreaterThanOrEqual(400);
    expect(httpStatusFor(ErrorCode.QUERY_TOO_COMPLEX)).toBe(400);
    expect(httpStatusFor(ErrorCode.SUBGRAPH_UNAVAILABLE)).toBe(503);
  });
});
