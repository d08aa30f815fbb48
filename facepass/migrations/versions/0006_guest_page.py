"""The guest page: searches per consent version, and each session's branding.

Revision ID: 0006_guest_page
Revises: 0005_privacy
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_guest_page"
down_revision = "0005_privacy"
branch_labels = None
depends_on = None


_NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "consent_usage_daily",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("consent_version", sa.Text(), nullable=False),
        sa.Column("searches", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint(
            "session_id", "day", "consent_version", name="pk_consent_usage_daily"
        ),
    )
    op.create_table(
        "session_branding",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("event_name", sa.Text()),
        sa.Column("event_date", sa.Date()),
        sa.Column("studio_name", sa.Text()),
        sa.Column("accent_color", sa.Text()),
        sa.Column("cover_photo_id", sa.Uuid()),
        sa.Column("logo", sa.LargeBinary()),
        sa.Column("logo_content_type", sa.Text()),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_branding"),
        sa.CheckConstraint(
            "accent_color IS NULL OR accent_color ~ '^#[0-9a-f]{6}$'",
            name="ck_session_branding_accent_color",
        ),
    )


def downgrade() -> None:
    op.drop_table("session_branding")
    op.drop_table("consent_usage_daily")
