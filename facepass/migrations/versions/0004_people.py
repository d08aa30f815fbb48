"""The session's people: people, person_faces, people_groupings (see facepass/people/models.py).

Revision ID: 0004_people
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0004_people"
down_revision = "0003"
branch_labels = None
depends_on = None


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("model_id", sa.Text(), nullable=False),
        sa.Column("cover_face_id", sa.BigInteger()),
        sa.Column("centroid", Vector()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.ForeignKeyConstraint(
            ["cover_face_id"],
            ["faces.id"],
            name="fk_people_cover_face_id_faces",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_people_session_id_model_id", "people", ["session_id", "model_id"])

    op.create_table(
        "person_faces",
        sa.Column("face_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("core", sa.Boolean(), nullable=False),
        sa.Column("support", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("face_id", name="pk_person_faces"),
        sa.ForeignKeyConstraint(
            ["face_id"], ["faces.id"], name="fk_person_faces_face_id_faces", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name="fk_person_faces_person_id_people",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_person_faces_person_id_photo_id", "person_faces", ["person_id", "photo_id"])
    op.create_index("ix_person_faces_session_id", "person_faces", ["session_id"])

    op.create_table(
        "people_groupings",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True)),
        sa.Column("pending_since", sa.DateTime(timezone=True)),
        sa.Column("scheduled_for", sa.DateTime(timezone=True)),
        sa.Column("grouped_at", sa.DateTime(timezone=True)),
        sa.Column("model_id", sa.Text()),
        sa.Column("faces", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("people", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("took_ms", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("session_id", name="pk_people_groupings"),
    )


def downgrade() -> None:
    op.drop_table("people_groupings")
    op.drop_table("person_faces")
    op.drop_table("people")
