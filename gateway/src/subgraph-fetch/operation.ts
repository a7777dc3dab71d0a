// Operation sniffing: whether a fetch is a query (retried, shared) or not.
import { Kind, type OperationDefinitionNode, parse } from 'graphql';

/**
 * The operation type of a fetch. Gateway-built fetches start with the keyword (or `{`), so a
 * regex answers without parsing; anything else is parsed. Unreadable means "mutation": never
 * retried, never shared.
 */
export function operationTypeOf(query: string, operationName?: string | null): 'query' | 'mutation' | 'subscription' {
  const match = /^\s*(?:(query|mutation|subscription)\b|\{)/.exec(query);
  if (match) return (match[1] as 'query' | 'mutation' | 'subscription' | undefined) ?? 'query';
  try {
    const operations = parse(query).definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
    return operation?.operation ?? 'mutation';
  } catch {
    return 'mutation';
  }
}
