"""Webhook notifications of FacePass status changes: signed, queued in the database, retried."""
