-- patternd schema, version 2: the same CHECK constraints, written so that
-- checking them costs nothing.
--
-- A CHECK of the form `x IN ('a', 'b', 'c')` makes SQLite build an ephemeral
-- b-tree of the list for every row inserted (EXPLAIN shows OpenEphemeral):
-- profiled, that doubled the cost of inserting a workflow or an extraction
-- event. `x = 'a' OR x = 'b' OR x = 'c'` accepts and rejects exactly the same
-- values (NULL included: a CHECK passes on NULL either way) with three
-- comparisons.
--
-- Every existing row satisfies both forms, so this uses SQLite's documented
-- procedure for changing a CHECK constraint in place (ALTER TABLE, section
-- "Making Other Kinds Of Table Schema Changes"): no table rebuild, instant on
-- a database of any size. The migration runner increments the schema cookie
-- afterwards, so other connections re-read the schema.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(sql,
  'CHECK (status IN (''completed'', ''failed'', ''cancelled''))',
  'CHECK (status = ''completed'' OR status = ''failed'' OR status = ''cancelled'')')
WHERE type = 'table' AND name = 'workflow_history';

UPDATE sqlite_schema
SET sql = replace(replace(sql,
  'CHECK (risk_level IN (''low'', ''medium'', ''high''))',
  'CHECK (risk_level = ''low'' OR risk_level = ''medium'' OR risk_level = ''high'')'),
  'CHECK (auto_confirmable IN (0, 1))',
  'CHECK (auto_confirmable = 0 OR auto_confirmable = 1)')
WHERE type = 'table' AND name = 'extraction_events';

PRAGMA writable_schema = OFF;
