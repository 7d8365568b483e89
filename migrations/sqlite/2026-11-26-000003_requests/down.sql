DROP TABLE evidence;
DROP TABLE issuer_messages;
DROP TABLE jobs;
DROP TABLE idempotency_keys;
DROP TABLE request_events;
DROP TABLE verification_requests;
