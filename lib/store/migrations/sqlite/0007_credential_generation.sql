-- 0007_credential_generation: on PostgreSQL, a counter that changes with every write to
-- credential data (see pg/0007). On SQLite every writer is a pccd process on this machine, and
-- the counter lives in the memory-mapped file pcc.db-generation beside the database
-- (lib/store/cache.c), so there is nothing to create here: this keeps both backends' migration
-- lists aligned.
SELECT 1;
