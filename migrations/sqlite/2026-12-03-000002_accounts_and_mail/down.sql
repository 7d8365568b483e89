DROP TABLE mail_outbox;
DROP TABLE holder_sessions;
DROP TABLE holder_tokens;
ALTER TABLE holders DROP COLUMN email_verified_at;
