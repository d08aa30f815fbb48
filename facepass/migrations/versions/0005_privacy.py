"""Privacy and access: studio API keys, the append-only audit log, face suppressions.

Revision ID: 0005_privacy
Revises: 0004_people
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_privacy"
down_revision = "0004_people"
branch_labels = None
depends_on = None

_REAL = sa.Float(precision=24)

# The audit log is append-only inside PostgreSQL itself: no UPDATE or DELETE ever succeeds.
_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("studio_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False, server_default=""),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
        sa.CheckConstraint("scope IN ('read', 'upload', 'delete')", name="ck_api_keys_scope"),
    )
    op.create_index("ix_api_keys_studio_id", "api_keys", ["studio_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Uuid()),
        sa.Column("counts", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("request_id", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_session_id_id", "audit_log", ["session_id", "id"])
    op.execute(_APPEND_ONLY)

    op.create_table(
        "face_suppressions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("photo_sha256", sa.Text(), nullable=False),
        sa.Column("box_left", _REAL, nullable=False),
        sa.Column("box_top", _REAL, nullable=False),
        sa.Column("box_right", _REAL, nullable=False),
        sa.Column("box_bottom", _REAL, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_face_suppressions"),
        sa.CheckConstraint("reason IN ('opt_out', 'removal')", name="ck_face_suppressions_reason"),
    )
    op.create_index(
        "ix_face_suppressions_session_id_photo_sha256",
        "face_suppressions",
        ["session_id", "photo_sha256"],
    )


def downgrade() -> None:
    op.drop_table("face_suppressions")
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("api_keys")
