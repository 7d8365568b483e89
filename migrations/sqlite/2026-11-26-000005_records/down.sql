DROP TABLE audit_log;
DROP TABLE record_access;
DROP TABLE share_codes;
DROP TABLE records;
DROP TABLE status_lists;
DROP TABLE platform_keys;
ALTER TABLE holders DROP COLUMN identity_document_sealed;
