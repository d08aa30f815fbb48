"""Read-only access to Pixora's database: PhotoSession, get_pixora_db, validation and cache."""
