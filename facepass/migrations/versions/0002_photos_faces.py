"""Photos, faces (pgvector, one partial HNSW index per model), session indexes, workers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_REAL = sa.Float(precision=24)


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("original_filename", sa.Text(), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer()),
        sa.Column("height", sa.Integer()),
        sa.Column("captured_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.Text(), nullable=False, server_default="pending"),
        sa.Column("failure_code", sa.Text()),
        sa.Column("failure_detail", sa.Text()),
        sa.Column("model_id", sa.Text()),
        sa.Column("face_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("worker_id", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("indexed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_photos"),
        sa.UniqueConstraint("session_id", "sha256", name="uq_photos_session_id_sha256"),
        sa.CheckConstraint(
            "status IN ('pending', 'indexing', 'indexed', 'failed')", name="ck_photos_status"
        ),
    )
    op.create_index("ix_photos_session_id", "photos", ["session_id"])
    op.create_index("ix_photos_session_id_status", "photos", ["session_id", "status"])
    op.create_index(
        "ix_photos_unfinished",
        "photos",
        ["status", "updated_at"],
        postgresql_where=sa.text("status IN ('pending', 'indexing')"),
    )

    op.create_table(
        "faces",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
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
        sa.PrimaryKeyConstraint("id", name="pk_faces"),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_faces_photo_id_photos", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_faces_session_id_model_id", "faces", ["session_id", "model_id"])
    op.create_index("ix_faces_photo_id_model_id", "faces", ["photo_id", "model_id"])
    # The default model's partial HNSW index, as photos/vector_index.py wrote it at this revision.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_faces_embedding_dlib_resnet_v1 ON faces "
        "USING hnsw ((embedding::vector(128)) vector_cosine_ops) "
        "WHERE model_id = 'dlib-resnet-v1'"
    )

    op.create_table(
        "session_indexes",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("active_model_id", sa.Text(), nullable=False),
        sa.Column("building_model_id", sa.Text()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_indexes"),
    )

    op.create_table(
        "indexing_workers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("hostname", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Text()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column(
            "heartbeat_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_indexing_workers"),
    )


def downgrade() -> None:
    op.drop_table("indexing_workers")
    op.drop_table("session_indexes")
    op.drop_table("faces")
    op.drop_table("photos")
