DROP INDEX jobs_request;
