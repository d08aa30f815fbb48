"""Retention marks: sessions whose faces a retention pass purged; indexing writes none for them.

Revision ID: 0007_retention_marks
Revises: 0006_guest_page
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_retention_marks"
down_revision = "0006_guest_page"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_marks",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column(
            "faces_purged_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.PrimaryKeyConstraint("session_id", name="pk_retention_marks"),
    )


def downgrade() -> None:
    op.drop_table("retention_marks")
