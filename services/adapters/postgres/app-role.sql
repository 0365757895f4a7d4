-- docker-compose.yml's PostgreSQL, at its first start (/docker-entrypoint-initdb.d): the
-- application's own role. The tables belong to the migrations' role (POSTGRES_USER, in
-- DATABASE_MIGRATION_URL); the engine logs in as leakguard_app, which owns nothing, so it can
-- neither ALTER the audit log nor DISABLE its trigger. Its rights on the tables are granted by
-- `npm run db -- migrate` after every migration (grantApplicationRole in migrate.ts): read and
-- write the case tables; on audit_log SELECT and INSERT only, never UPDATE, DELETE or TRUNCATE.
-- An existing database (this runs on an empty volume only): run these two statements by hand.
CREATE ROLE leakguard_app LOGIN PASSWORD 'leakguard_app';
GRANT CONNECT ON DATABASE leakguard TO leakguard_app;
