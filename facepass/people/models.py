"""The session's people: groups of faces (migration 0004). Documented for whoever builds on it.

- `people`: one row per person of a session, for one model (faces of another model are other
  rows). `id` is stable across regroupings where the group survives: a new grouping's groups
  take over the ids of the old groups they overlap most (`people/store.py`), so an admin's link
  keeps pointing at the same person. `centroid` is the unit mean of the person's core faces
  (what search compares a selfie with); `cover_face_id` the face shown for the person.
- `person_faces`: which person each face is (one row per grouped face; a face is in at most one
  person). `core`: the face has at least two graph neighbours in its person; `support`: how
  many. `session_id` and `photo_id` are the face's own, copied for cheap per-session and
  per-photo queries. Rows go when their face goes (ON DELETE CASCADE); the counts the API shows
  are computed from these rows, so a deleted photo is gone from its person at once.
- `people_groupings`: per session, when a regrouping was asked for and when it last ran (the
  debounce of the incremental task, and what `facepass people regroup` reports).

- `people.name` and `person_pins` (migration 0009): a studio's decisions. A pin says "the face
  at this box of this photo belongs to this person"; merging, splitting and naming pin the
  faces involved (`people/decisions.py`). The grouping keeps pinned faces of one person
  together and those of two people apart, and a group with pinned faces takes its pin's id, so
  a name and a decision survive any regrouping; keyed by photo and box, they survive a
  re-index too (the new face at the same place, IoU >= 0.5, inherits the pin).

Deleting a `people` row deletes its `person_faces` rows; the next regrouping would group those
faces again, so a feature that hides a person for good (opt-out) must also keep its faces out
of the grouping (a suppression list read by `people/store.py:load_faces`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from facepass.db import Base


class Person(Base):
    """One person of a session (for one model): a group of that session's faces."""

    __tablename__ = "people"
    __table_args__ = (Index("ix_people_session_id_model_id", "session_id", "model_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    model_id: Mapped[str] = mapped_column(Text)
    cover_face_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("faces.id", ondelete="SET NULL")
    )
    centroid: Mapped[Any] = mapped_column(Vector(), nullable=True)
    name: Mapped[str | None] = mapped_column(Text)  # set by the studio
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PersonPin(Base):
    """A studio's decision: the face at this box of this photo is this person."""

    __tablename__ = "person_pins"
    __table_args__ = (
        UniqueConstraint(
            "photo_id",
            "box_left",
            "box_top",
            "box_right",
            "box_bottom",
            name="uq_person_pins_photo_box",
        ),
        Index("ix_person_pins_session_id", "session_id"),
        Index("ix_person_pins_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    photo_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("photos.id", ondelete="CASCADE"))
    box_left: Mapped[float] = mapped_column(Float(precision=24))
    box_top: Mapped[float] = mapped_column(Float(precision=24))
    box_right: Mapped[float] = mapped_column(Float(precision=24))
    box_bottom: Mapped[float] = mapped_column(Float(precision=24))
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    pinned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PersonFace(Base):
    """A face's person; core faces are those the person's search vouches for."""

    __tablename__ = "person_faces"
    __table_args__ = (
        Index("ix_person_faces_person_id_photo_id", "person_id", "photo_id"),
        Index("ix_person_faces_session_id", "session_id"),
    )

    face_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("faces.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("people.id", ondelete="CASCADE"))
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    photo_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    core: Mapped[bool] = mapped_column(Boolean)
    support: Mapped[int] = mapped_column(SmallInteger)


class PeopleGrouping(Base):
    """A session's grouping state: asked for when, done when, with what result."""

    __tablename__ = "people_groupings"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # latest ask
    # The first ask not yet answered: a session that keeps changing is still regrouped this
    # long after it (`people_regroup_max_wait_s`), however short the quiet gaps.
    pending_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A queued regrouping message will look at the session at this time (None: none queued).
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    grouped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    model_id: Mapped[str | None] = mapped_column(Text)
    faces: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    people: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    took_ms: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
