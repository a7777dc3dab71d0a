CREATE INDEX "reviews_created_at_id_idx" ON "reviews"."reviews" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "reviews_rating_id_idx" ON "reviews"."reviews" USING btree ("rating","id");--> statement-breakpoint
CREATE INDEX "reviews_rating_created_at_id_idx" ON "reviews"."reviews" USING btree ("rating","created_at","id");