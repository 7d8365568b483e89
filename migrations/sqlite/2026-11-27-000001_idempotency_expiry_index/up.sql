-- Every claimed Idempotency-Key first deletes the keys past their retention; without this
-- index that delete scans the whole table on each request.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
