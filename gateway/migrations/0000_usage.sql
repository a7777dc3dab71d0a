CREATE SCHEMA "gateway_usage";
--> statement-breakpoint
CREATE TABLE "gateway_usage"."operation_coordinates" (
	"hash" text NOT NULL,
	"coordinate" text NOT NULL,
	CONSTRAINT "operation_coordinates_hash_coordinate_pk" PRIMARY KEY("hash","coordinate")
);
--> statement-breakpoint
CREATE TABLE "gateway_usage"."operation_usage" (
	"bucket" timestamp with time zone NOT NULL,
	"hash" text NOT NULL,
	"client_name" text NOT NULL,
	"client_version" text NOT NULL,
	"requests" bigint NOT NULL,
	"errors" bigint NOT NULL,
	"latency_ms" bigint[] DEFAULT '{}' NOT NULL,
	CONSTRAINT "operation_usage_bucket_hash_client_name_client_version_pk" PRIMARY KEY("bucket","hash","client_name","client_version")
);
--> statement-breakpoint
CREATE TABLE "gateway_usage"."operations" (
	"hash" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"signature" text NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "gateway_usage"."operation_coordinates" ADD CONSTRAINT "operation_coordinates_hash_operations_hash_fk" FOREIGN KEY ("hash") REFERENCES "gateway_usage"."operations"("hash") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "operation_coordinates_coordinate_idx" ON "gateway_usage"."operation_coordinates" USING btree ("coordinate");--> statement-breakpoint
CREATE INDEX "operation_usage_hash_idx" ON "gateway_usage"."operation_usage" USING btree ("hash","bucket");--> statement-breakpoint
CREATE INDEX "operations_last_seen_idx" ON "gateway_usage"."operations" USING btree ("last_seen");