DROP INDEX qualifications_field;
