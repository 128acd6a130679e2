-- patternd PostgreSQL schema, version 3: prompt search folds diacritics, as
-- SQLite's FTS5 index (unicode61) does: "PÁRSER" finds "parser".
--
-- The 'simple' configuration of version 1 lower-cases words but keeps their
-- accents. patternd_search is 'simple' with the unaccent dictionary (a
-- contrib extension, in Debian's postgresql package and the official image;
-- trusted, so a database owner may create it) in front. to_tsvector with a
-- named configuration is immutable, so the column stays a generated one.
-- The column is built again: its expression cannot be altered in place
-- (before PostgreSQL 17), and this rewrites prompt_history once.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION patternd_search (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION patternd_search
  ALTER MAPPING FOR word, hword, hword_part WITH unaccent, simple;

ALTER TABLE prompt_history DROP COLUMN search;
ALTER TABLE prompt_history ADD COLUMN search tsvector GENERATED ALWAYS AS (
  to_tsvector('patternd_search'::regconfig,
              original_idea || ' ' || context || ' ' || improved_prompt)) STORED;
CREATE INDEX prompt_history_search ON prompt_history USING gin (search);
