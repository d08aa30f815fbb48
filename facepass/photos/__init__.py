"""Photos of a session: upload, storage backends, thumbnails, the photos/faces schema."""
