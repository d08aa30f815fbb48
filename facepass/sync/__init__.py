"""Periodic synchronisation of Pixora's session data into local snapshots (change detection)."""
