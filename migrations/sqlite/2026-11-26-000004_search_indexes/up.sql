-- Filters of the public search that otherwise scan the table.
CREATE INDEX qualifications_field ON qualifications (field, id);
