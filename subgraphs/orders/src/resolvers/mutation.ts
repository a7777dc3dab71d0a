// placeOrder: validate, price from the catalogue (outside any transaction), then write the
// order, its lines and its jobs in one short transaction. The (buyer, idempotency key)
// unique index makes a repeat — sequential or concurrent — return the first order; the
// stored hash of the lines tells a replay from a reused key with another payload.

import { createHash } from 'node:crypto';
import { recordInvalidations } from '@trellis/cache/outbox';
import { ErrorCode, trellisError, type UserError, userError } from '@trellis/errors';
import { parseId, requireUser } from '@trellis/subgraph-kit';
import { and, eq } from 'drizzle-orm';
import { CatalogueUnavailable, catalogue } from '../catalogue.ts';
import { cacheOutbox, type OrderRow, orderLines, orders } from '../db/schema.ts';
import type { MutationResolvers, PlaceOrderInput } from '../generated/graphql.ts';
import { enqueueOrderPlaced } from '../jobs/enqueue.ts';
import type { Context } from '../loaders.ts';

export const MAX_LINES = 50;
export const MAX_QUANTITY = 1000;
const KEY = /^[\x21-\x7e]{8,128}$/;

/** Stable over the same lines in the same order; ids as parsed so "01" and "1" differ not. */
function requestHash(lines: readonly { productId: number; quantity: number }[]): string {
  return createHash('sha256')
    .update(JSON.stringify(lines.map((line) => [line.productId, line.quantity])))
    .digest('hex');
}

function validate(input: PlaceOrderInput): { errors: UserError[]; lines: { productId: number; quantity: number }[] } {
  const errors: UserError[] = [];
  if (!KEY.test(input.idempotencyKey)) {
    errors.push(
      userError(
        'INVALID_IDEMPOTENCY_KEY',
        'idempotencyKey must be 8 to 128 printable ASCII characters (a UUID works)',
        ['input', 'idempotencyKey'],
      ),
    );
  }
  if (input.lines.length === 0)
    errors.push(userError('NO_LINES', 'An order needs at least one line', ['input', 'lines']));
  if (input.lines.length > MAX_LINES) {
    errors.push(userError('TOO_MANY_LINES', `An order has at most ${MAX_LINES} lines`, ['input', 'lines']));
    return { errors, lines: [] };
  }
  const seen = new Set<number>();
  const lines: { productId: number; quantity: number }[] = [];
  input.lines.forEach((line, index) => {
    const path = ['input', 'lines', String(index)];
    const productId = parseId(line.productId);
    if (productId === null) {
      errors.push(userError('NOT_FOUND', 'No product has this id', [...path, 'productId']));
    } else if (seen.has(productId)) {
      errors.push(userError('DUPLICATE_PRODUCT', 'Each product may appear on one line only', [...path, 'productId']));
    }
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_QUANTITY) {
      errors.push(
        userError('INVALID_QUANTITY', `Quantity must be an integer from 1 to ${MAX_QUANTITY}`, [...path, 'quantity']),
      );
    }
    if (productId !== null) {
      seen.add(productId);
      lines.push({ productId, quantity: line.quantity });
    }
  });
  return { errors, lines };
}

const reusedKey = () =>
  userError(
    'IDEMPOTENCY_KEY_REUSED',
    'This idempotencyKey was already used for an order with different lines; use a new key for a new order',
    ['input', 'idempotencyKey'],
  );

type Db = Context['db'];

async function existing(db: Db, buyerId: number, key: string): Promise<OrderRow | undefined> {
  const [row] = await db
    .select()
    .from(orders)
    .where(and(eq(orders.buyerId, buyerId), eq(orders.idempotencyKey, key)));
  return row;
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * The order and its lines (inside the caller's transaction); null when this buyer's key is
 * taken. `alongside` (the jobs) is sent together with the lines insert: postgres.js pipelines
 * both on the transaction's connection, so the enqueue adds no round trip. Exported for the
 * jobs benchmark, which times it with and without the enqueue.
 */
export async function insertOrder(
  tx: Tx,
  order: {
    buyerId: number;
    idempotencyKey: string;
    requestHash: string;
    lines: { productId: number; quantity: number; unitPriceCents: number }[];
  },
  alongside: (orderId: number) => Promise<unknown> = async () => {},
): Promise<OrderRow | null> {
  const totalCents = order.lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  const [row] = await tx
    .insert(orders)
    .values({
      buyerId: order.buyerId,
      totalCents,
      idempotencyKey: order.idempotencyKey,
      requestHash: order.requestHash,
    })
    .onConflictDoNothing({ target: [orders.buyerId, orders.idempotencyKey] })
    .returning();
  if (!row) return null;
  await Promise.all([
    tx.insert(orderLines).values(order.lines.map((line, index) => ({ orderId: row.id, lineNo: index + 1, ...line }))),
    alongside(row.id),
  ]);
  return row;
}

export const Mutation: MutationResolvers = {
  placeOrder: async (_parent, { input }, { db, viewer }) => {
    const buyerId = requireUser(viewer);
    const { errors, lines } = validate(input);
    if (errors.length > 0) return { order: null, userErrors: errors };
    const hash = requestHash(lines);

    // A replay needs no prices: answer it before asking the catalogue.
    const replay = await existing(db, buyerId, input.idempotencyKey);
    if (replay) {
      return replay.requestHash === hash
        ? { order: replay, userErrors: [] }
        : { order: null, userErrors: [reusedKey()] };
    }

    let prices: Map<number, number>;
    try {
      prices = await catalogue().prices(lines.map((line) => line.productId));
    } catch (error) {
      if (error instanceof CatalogueUnavailable) {
        throw trellisError(ErrorCode.SERVICE_UNAVAILABLE, 'Prices are unavailable right now; try again', {
          http: { status: 503 },
        });
      }
      throw error;
    }
    const unknown = input.lines.flatMap((line, index) =>
      prices.has(Number(line.productId))
        ? []
        : [userError('NOT_FOUND', 'No product has this id', ['input', 'lines', String(index), 'productId'])],
    );
    if (unknown.length > 0) return { order: null, userErrors: unknown };
    const priced = lines.map((line) => ({ ...line, unitPriceCents: prices.get(line.productId) as number }));

    // A concurrent duplicate that committed first leaves null: nothing written or enqueued here.
    const placed = await db.transaction((tx) =>
      insertOrder(tx, { buyerId, idempotencyKey: input.idempotencyKey, requestHash: hash, lines: priced }, (orderId) =>
        Promise.all([
          enqueueOrderPlaced(tx, orderId),
          // The buyer's cached order lists (User.orders) now miss this order.
          recordInvalidations(tx, cacheOutbox, [{ typename: 'User', id: String(buyerId) }]),
        ]),
      ),
    );
    if (placed) return { order: placed, userErrors: [] };
    const winner = await existing(db, buyerId, input.idempotencyKey);
    if (!winner) throw new Error('placeOrder: idempotency conflict without a committed order');
    return winner.requestHash === hash ? { order: winner, userErrors: [] } : { order: null, userErrors: [reusedKey()] };
  },
};
