"""The brief's `photo_sessions` schema and the demo sessions, for the embedded default and tests.

FacePass never creates or migrates Pixora's real schema: this DDL exists to stand up a demo
Pixora database (embedded mode) and the stand-in server the tests read from.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

STATUS_ENUM = "photo_session_status"
STATUS_VALUES = ("created", "scheduled", "in_progress", "completed", "archived")

DEMO_SESSION_ID = "1788875f-fc71-49d6-a9fa-a060e3ee6fee"
DISABLED_SESSION_ID = "2b6f0c55-8d3e-4c61-9a3e-5f1d2a7c9e10"
DEMO_STUDIO_ID = "9cccbfe6-2137-4d5a-97c7-e470dd73a758"
OTHER_STUDIO_SESSION_ID = "5d1f0e7a-2c4b-4e8a-9f3d-6b7c8a9d0e1f"
OTHER_STUDIO_ID = "7a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d"
DEMO_PHOTOGRAPHER_ID = "5ff5d5fd-1068-405f-b4c9-3c9c01a499d9"
DEMO_CREATED_AT = "2026-02-18T17:55:51.746+00:00"

SCHEMA_DDL = f"""
DO $$ BEGIN
    CREATE TYPE {STATUS_ENUM} AS ENUM ({", ".join(f"'{v}'" for v in STATUS_VALUES)});
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

CREATE TABLE IF NOT EXISTS photo_sessions (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    description text,
    photographer_id uuid NOT NULL,
    studio_id uuid NOT NULL,
    status {STATUS_ENUM} NOT NULL DEFAULT 'created',
    scheduled_at timestamp with time zone,
    completed_at timestamp with time zone,
    settings jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    service_package_id uuid,
    facepass_enabled boolean NOT NULL DEFAULT false
);
"""

DEMO_ROWS = [
    {
        "id": DEMO_SESSION_ID,
        "name": "Тестовая поиск по лицу",
        "description": None,
        "photographer_id": DEMO_PHOTOGRAPHER_ID,
        "studio_id": DEMO_STUDIO_ID,
        "status": "created",
        "settings": None,
        "created_at": DEMO_CREATED_AT,
        "updated_at": DEMO_CREATED_AT,
        "facepass_enabled": True,
    },
    {
        "id": DISABLED_SESSION_ID,
        "name": "Демо: FacePass выключен",
        "description": "A demo session whose studio has not turned FacePass on.",
        "photographer_id": DEMO_PHOTOGRAPHER_ID,
        "studio_id": DEMO_STUDIO_ID,
        "status": "completed",
        "settings": None,
        "created_at": DEMO_CREATED_AT,
        "updated_at": DEMO_CREATED_AT,
        "facepass_enabled": False,
    },
    {
        # A second studio's session: studio keys of one studio never reach the other's.
        "id": OTHER_STUDIO_SESSION_ID,
        "name": "Демо: другая студия",
        "description": None,
        "photographer_id": DEMO_PHOTOGRAPHER_ID,
        "studio_id": OTHER_STUDIO_ID,
        "status": "created",
        "settings": None,
        "created_at": DEMO_CREATED_AT,
        "updated_at": DEMO_CREATED_AT,
        "facepass_enabled": True,
    },
]

_INSERT = text(
    f"""
    INSERT INTO photo_sessions (id, name, description, photographer_id, studio_id, status,
                                settings, created_at, updated_at, facepass_enabled)
    VALUES (CAST(:id AS uuid), :name, :description, CAST(:photographer_id AS uuid),
            CAST(:studio_id AS uuid), CAST(:status AS {STATUS_ENUM}), CAST(:settings AS jsonb),
            CAST(:created_at AS timestamptz), CAST(:updated_at AS timestamptz), :facepass_enabled)
    ON CONFLICT (id) DO NOTHING
    """  # noqa: S608 - the enum name is a constant, not input
)


def create_schema(conn: Connection) -> None:
    """Create the brief's enum type and `photo_sessions` table if missing."""
    conn.exec_driver_sql(SCHEMA_DDL)


def insert_demo_sessions(conn: Connection) -> None:
    """Insert the demo sessions: the brief's, a FacePass-off one, another studio's (kept)."""
    for row in DEMO_ROWS:
        conn.execute(_INSERT, row)


def grant_read_only(conn: Connection, role: str) -> None:
    """Create `role` (no password, login) able to SELECT `photo_sessions` and nothing more."""
    # A DO block, not check-then-create: concurrent set-ups must not race on the role.
    conn.exec_driver_sql(
        f'DO $$ BEGIN CREATE ROLE "{role}" LOGIN; '
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    conn.exec_driver_sql(f'GRANT SELECT ON photo_sessions TO "{role}"')
