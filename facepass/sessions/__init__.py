"""The schemas of the brief's session endpoints (their router: facepass.api.sessions)."""
