-- Every transition that ends a request's dispatch deletes its job by request id; without
-- this index each of those deletes read the whole jobs table (on PostgreSQL, the largest
-- single cost of `cargo bench --bench requests`).
CREATE INDEX jobs_request ON jobs (request_id);
