"""A guest's opt-out, studio removals (face suppressions) and retention of faces and photos."""
