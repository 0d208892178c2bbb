-- PostgreSQL's per-row triggers on inserted messages became per-statement ones (see the
-- PostgreSQL migration of the same name). SQLite has only per-row triggers, run in-process
-- and cheap; nothing changes here.
SELECT 1;
