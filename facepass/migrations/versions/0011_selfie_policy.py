"""Selfie policy per session: `live` (camera and challenge) or `live_or_gallery`.

Revision ID: 0011_selfie_policy
Revises: 0010_audit_chain
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_selfie_policy"
down_revision = "0010_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_selfie_policy",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_selfie_policy"),
        sa.CheckConstraint(
            "policy IN ('live', 'live_or_gallery')", name="ck_session_selfie_policy_policy"
        ),
    )


def downgrade() -> None:
    op.drop_table("session_selfie_policy")
