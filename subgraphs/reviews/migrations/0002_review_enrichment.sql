CREATE TABLE "reviews"."processed_messages" (
	"queue" text NOT NULL,
	"message_id" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processed_messages_queue_message_id_pk" PRIMARY KEY("queue","message_id")
);
--> statement-breakpoint
CREATE TABLE "reviews"."product_ratings" (
	"product_id" bigint PRIMARY KEY NOT NULL,
	"review_count" integer NOT NULL,
	"rating_sum" integer NOT NULL,
	"sentiment_sum" double precision DEFAULT 0 NOT NULL,
	"sentiment_count" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "reviews"."reviews" ADD COLUMN "sentiment" real;--> statement-breakpoint
ALTER TABLE "reviews"."reviews" ADD COLUMN "keywords" text[];--> statement-breakpoint
ALTER TABLE "reviews"."reviews" ADD COLUMN "enriched_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "product_ratings_product_aggregates_idx" ON "reviews"."product_ratings" USING btree ("product_id","review_count","rating_sum","sentiment_sum","sentiment_count");--> statement-breakpoint
-- Backfill (hand-written): reviews written before enrichment existed are counted as they
-- are (no sentiment or keywords) so the aggregates keep matching the reviews.
UPDATE "reviews"."reviews" SET "enriched_at" = "created_at" WHERE "enriched_at" IS NULL;--> statement-breakpoint
INSERT INTO "reviews"."product_ratings" ("product_id", "review_count", "rating_sum")
SELECT "product_id", count(*), sum("rating") FROM "reviews"."reviews" GROUP BY "product_id";
