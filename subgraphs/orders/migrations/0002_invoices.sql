CREATE TYPE "orders"."invoice_status" AS ENUM('PENDING', 'READY', 'FAILED');--> statement-breakpoint
CREATE TABLE "orders"."invoices" (
	"order_id" bigint PRIMARY KEY NOT NULL,
	"status" "orders"."invoice_status" DEFAULT 'PENDING' NOT NULL,
	"pdf" "bytea",
	"generated_at" timestamp with time zone,
	"error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "orders"."invoices" ADD CONSTRAINT "invoices_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE cascade ON UPDATE no action;