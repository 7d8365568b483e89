DROP TABLE service_accounts;
DROP TABLE holders;
