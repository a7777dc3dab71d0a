CREATE SCHEMA "inventory";
--> statement-breakpoint
CREATE TABLE "inventory"."stock" (
	"product_id" bigint PRIMARY KEY NOT NULL,
	"quantity" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stock_quantity_non_negative" CHECK ("inventory"."stock"."quantity" >= 0)
);
