"""Every admin route goes through the one admin dependency (operator token or studio key,
studio and scope checks, audit row): a route added later without it fails here."""

from __future__ import annotations

from facepass.api.admin import ADMIN_SCHEME
from facepass.app import create_app
from facepass.config import Settings

WRITES = {"put", "patch", "delete"}
# Public POSTs, by the end of their path: a guest's selfie or token (search, recheck, the ZIP,
# opt-out, the live-selfie challenge, the e-mail of their results link, a family's merged
# results), or the brief's batch validation; no admin token.
PUBLIC_POSTS = {
    "search",
    "recheck",
    "download",
    "opt-out",
    "validate",
    "challenge",
    "results/email",
    "results/merge",
}


def test_admin_routes_use_the_one_admin_dependency() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url="postgresql://x@/x", main_app_database_url="postgresql://x@/x"
    )
    document = create_app(settings, run_migrations=False, start_background=False).openapi()
    admin, missing = [], []
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            guarded = {ADMIN_SCHEME: []} in operation.get("security", [])
            should = (
                "admin" in operation.get("summary", "").lower()
                or method in WRITES
                or (method == "post" and not any(path.endswith(f"/{end}") for end in PUBLIC_POSTS))
            )
            if guarded:
                admin.append(f"{method} {path}")
            elif should:
                missing.append(f"{method} {path}")
    assert missing == [], (
        "admin routes must depend on facepass.api.admin.require_admin_access "
        "(dependencies=[AdminAuth] or a parameter `access: AdminAccess`)"
    )
    # The routes this test knows of are all there (so it is not looking at an empty document).
    for known in (
        "post /api/v1/sessions/{session_id}/photos",
        "delete /api/v1/sessions/{session_id}/people/{person_id}",
        "delete /api/v1/sessions/{session_id}/faces/{face_id}",
        "get /api/v1/sessions/{session_id}/people",
        "put /api/v1/sessions/{session_id}/branding",
        "get /api/v1/audit",
    ):
        assert known in admin
