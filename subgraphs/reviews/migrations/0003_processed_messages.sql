CREATE TABLE "reviews"."processed_messages" (
	"queue" text NOT NULL,
	"message_id" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processed_messages_queue_message_id_pk" PRIMARY KEY("queue","message_id")
);
