-- OrleansVault schema 3: the node's own tables in cluster mode, the same ones embedded mode keeps in SQLite.

-- Per-scope data keys, wrapped by the master key; destroyed scopes stay recorded so their keys never come back.
CREATE TABLE IF NOT EXISTS data_keys (
    scope      text NOT NULL,
    version    integer NOT NULL,
    master_id  text NOT NULL,
    wrapped    bytea NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (scope, version)
);

CREATE TABLE IF NOT EXISTS destroyed_scopes (
    scope        text PRIMARY KEY,
    destroyed_at bigint NOT NULL
);

-- The audit log: insert-only; a trigger refuses UPDATE and DELETE.
CREATE TABLE IF NOT EXISTS audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             bigint NOT NULL,
    project_id     text NOT NULL,
    key_id         text,
    action         text NOT NULL,
    outcome        text NOT NULL,
    remote_address text,
    detail         text
);

CREATE INDEX IF NOT EXISTS audit_log_by_project ON audit_log (project_id, at);

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$f$;

DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- The durable webhook outbox: one row per event and target, the event encrypted under the app's data key.
CREATE TABLE IF NOT EXISTS webhook_outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id     text NOT NULL,
    url        text NOT NULL,
    payload    bytea NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    due_at     bigint NOT NULL,
    created_at bigint NOT NULL
);

CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (due_at, id);
