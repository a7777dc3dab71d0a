CREATE TABLE "orders"."processed_messages" (
	"queue" text NOT NULL,
	"message_id" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processed_messages_queue_message_id_pk" PRIMARY KEY("queue","message_id")
);
--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "request_hash" text;--> statement-breakpoint
CREATE UNIQUE INDEX "orders_buyer_idempotency_key_idx" ON "orders"."orders" USING btree ("buyer_id","idempotency_key");