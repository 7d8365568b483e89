DROP INDEX qualifications_search_text;
DROP INDEX qualifications_field;
