-- Filters of the public search that otherwise scan the table.
CREATE INDEX qualifications_field ON qualifications (field, id);
-- Free text is a substring match (LIKE '%q%'); trigrams let PostgreSQL answer it from an
-- index. pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX qualifications_search_text ON qualifications USING gin (search_text gin_trgm_ops) WITH (fastupdate = off);
