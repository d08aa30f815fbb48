"""Selfie search: ranking within one session, signed media URLs, rate limits."""
