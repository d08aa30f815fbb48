"""The guest page: HTML, CSS and JS served as-is (no build step, no CDN)."""
