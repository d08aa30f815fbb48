"""Removal review: every opt-out or studio removal is one `removals` row the studio can restore
within its review window; the removed faces wait in `removed_faces` until then.

Revision ID: 0008_removal_review
Revises: 0007_retention_marks
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision = "0008_removal_review"
down_revision = "0007_retention_marks"
branch_labels = None
depends_on = None

_REAL = sa.Float(precision=24)


def upgrade() -> None:
    op.create_table(
        "removals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("client_hash", sa.Text()),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("photos", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("review_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True)),
        sa.Column("restored_by", sa.Text()),
        sa.Column("finalized_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_removals"),
        sa.CheckConstraint("reason IN ('opt_out', 'removal')", name="ck_removals_reason"),
    )
    op.create_index("ix_removals_session_id_created_at", "removals", ["session_id", "created_at"])
    op.add_column("face_suppressions", sa.Column("removal_id", sa.Uuid()))
    op.create_foreign_key(
        "fk_face_suppressions_removal_id_removals",
        "face_suppressions",
        "removals",
        ["removal_id"],
        ["id"],
    )
    op.create_index("ix_face_suppressions_removal_id", "face_suppressions", ["removal_id"])
    # The removed faces themselves (every model's row), kept for the review window only.
    op.create_table(
        "removed_faces",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("removal_id", sa.Uuid(), nullable=False),
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("model_id", sa.Text(), nullable=False),
        sa.Column("box_left", _REAL, nullable=False),
        sa.Column("box_top", _REAL, nullable=False),
        sa.Column("box_right", _REAL, nullable=False),
        sa.Column("box_bottom", _REAL, nullable=False),
        sa.Column("landmarks", postgresql.JSONB()),
        sa.Column("detection_score", _REAL, nullable=False),
        sa.Column("size_px", _REAL, nullable=False),
        sa.Column("sharpness", _REAL, nullable=False),
        sa.Column("yaw", _REAL, nullable=False),
        sa.Column("pitch", _REAL, nullable=False),
        sa.Column("roll", _REAL, nullable=False),
        sa.Column("indexable", sa.Boolean(), nullable=False),
        sa.Column("embedding", Vector()),
        sa.PrimaryKeyConstraint("id", name="pk_removed_faces"),
        sa.ForeignKeyConstraint(
            ["removal_id"],
            ["removals.id"],
            name="fk_removed_faces_removal_id_removals",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_removed_faces_photo_id_photos", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_removed_faces_removal_id", "removed_faces", ["removal_id"])
    op.create_index("ix_removed_faces_session_id", "removed_faces", ["session_id"])
    # Opt-outs that matched nothing: a count per session and day, not a row each.
    op.add_column(
        "session_usage_daily",
        sa.Column("opt_outs_unmatched", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("session_usage_daily", "opt_outs_unmatched")
    op.drop_table("removed_faces")
    op.drop_index("ix_face_suppressions_removal_id", table_name="face_suppressions")
    op.drop_constraint(
        "fk_face_suppressions_removal_id_removals", "face_suppressions", type_="foreignkey"
    )
    op.drop_column("face_suppressions", "removal_id")
    op.drop_table("removals")
