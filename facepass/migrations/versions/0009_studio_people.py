"""Studio decisions on people: a person's name, and the faces a studio placed (pins).

Revision ID: 0009_studio_people
Revises: 0008_removal_review
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_studio_people"
down_revision = "0008_removal_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("people", sa.Column("name", sa.Text(), nullable=True))
    # A pin is keyed by the face's photo and box, not its id: a re-index replaces the faces
    # (new ids, maybe a new model) and the new face in the same place keeps the decision.
    op.create_table(
        "person_pins",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("box_left", sa.Float(precision=24), nullable=False),
        sa.Column("box_top", sa.Float(precision=24), nullable=False),
        sa.Column("box_right", sa.Float(precision=24), nullable=False),
        sa.Column("box_bottom", sa.Float(precision=24), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column(
            "pinned_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_person_pins"),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_person_pins_photo_id_photos", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "photo_id",
            "box_left",
            "box_top",
            "box_right",
            "box_bottom",
            name="uq_person_pins_photo_box",
        ),
    )
    op.create_index("ix_person_pins_session_id", "person_pins", ["session_id"])
    op.create_index("ix_person_pins_person_id", "person_pins", ["person_id"])


def downgrade() -> None:
    op.drop_table("person_pins")
    op.drop_column("people", "name")
