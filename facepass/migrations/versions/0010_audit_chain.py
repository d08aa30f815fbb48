"""Tamper-evident audit log: each row carries the hash of the one before it (a chain), a head
row outside the table remembers the last link, and TRUNCATE is refused like UPDATE and DELETE.

`facepass audit verify` recomputes the chain: a changed row breaks its own hash, a deleted one
its successor's link, a truncated table or tail the head. The chain is written by a trigger
that runs as the table's owner (SECURITY DEFINER), so a service role that may only INSERT and
SELECT `audit_log` (FACEPASS_MIGRATION_DATABASE_URL) needs no right on the head.

Revision ID: 0010_audit_chain
Revises: 0009_studio_people
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_audit_chain"
down_revision = "0009_studio_people"
branch_labels = None
depends_on = None

_HASH_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_row_hash(
    prev text, seq bigint, id bigint, at timestamptz, actor text, action text,
    session_id uuid, counts jsonb, request_id text
) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws(E'\\x1f',
        prev, seq::text, id::text, ((extract(epoch FROM at) * 1000000)::bigint)::text,
        actor, action, coalesce(session_id::text, ''), counts::text,
        coalesce(request_id, '')), 'UTF8')), 'hex')
$$;
"""

_CHAIN_TRIGGER = """
CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    head audit_chain_head%ROWTYPE;
BEGIN
    -- The head's row lock orders concurrent inserts: one link at a time, in `seq` order.
    SELECT * INTO head FROM audit_chain_head WHERE singleton FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_log chain head missing';
    END IF;
    NEW.seq := head.row_count + 1;
    NEW.prev_hash := head.last_hash;
    NEW.row_hash := audit_row_hash(NEW.prev_hash, NEW.seq, NEW.id, NEW.at, NEW.actor,
        NEW.action, NEW.session_id, NEW.counts, NEW.request_id);
    UPDATE audit_chain_head SET row_count = NEW.seq, last_hash = NEW.row_hash WHERE singleton;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE ALL ON audit_chain_head FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
"""

# Rows written before this revision join the chain in id order.
_BACKFILL = """
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
DO $$
DECLARE
    r record;
    n bigint := 0;
    last text := repeat('0', 64);  -- the genesis link
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        n := n + 1;
        UPDATE audit_log SET seq = n, prev_hash = last,
            row_hash = audit_row_hash(last, n, r.id, r.at, r.actor, r.action, r.session_id,
                                      r.counts, r.request_id)
        WHERE id = r.id RETURNING row_hash INTO last;
    END LOOP;
    INSERT INTO audit_chain_head (singleton, row_count, last_hash) VALUES (true, n, last);
END $$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
"""


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("singleton", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("singleton", name="pk_audit_chain_head"),
        sa.CheckConstraint("singleton", name="ck_audit_chain_head_singleton"),
    )
    op.add_column("audit_log", sa.Column("seq", sa.BigInteger()))
    op.add_column("audit_log", sa.Column("prev_hash", sa.Text()))
    op.add_column("audit_log", sa.Column("row_hash", sa.Text()))
    op.execute(_HASH_FUNCTION)
    op.execute(_BACKFILL)
    op.alter_column("audit_log", "seq", nullable=False)
    op.alter_column("audit_log", "prev_hash", nullable=False)
    op.alter_column("audit_log", "row_hash", nullable=False)
    op.create_unique_constraint("uq_audit_log_seq", "audit_log", ["seq"])
    op.execute(_CHAIN_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_chain ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_chain()")
    op.drop_constraint("uq_audit_log_seq", "audit_log", type_="unique")
    op.drop_column("audit_log", "row_hash")
    op.drop_column("audit_log", "prev_hash")
    op.drop_column("audit_log", "seq")
    op.execute(
        "DROP FUNCTION IF EXISTS audit_row_hash(text, bigint, bigint, timestamptz, "
        "text, text, uuid, jsonb, text)"
    )
    op.drop_table("audit_chain_head")
