DROP TABLE registry_changes;
DROP TABLE qualifications;
DROP TABLE issuing_body_keys;
DROP TABLE issuing_bodies;
DROP TABLE list_versions;
