-- A claimed Idempotency-Key is held for a lease, by a token: a claim whose request never
-- answered (a cut connection, a killed process) can be taken again once its lease has run
-- out, and only the holder of the token may store the answer. Keys claimed before this
-- migration have no lease and count as expired.
ALTER TABLE idempotency_keys ADD COLUMN claim_token TEXT NULL;
ALTER TABLE idempotency_keys ADD COLUMN lease_until TIMESTAMP NULL;
