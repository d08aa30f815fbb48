"""Selfie search: ranking within one session, people expansion, the guest's opt-out."""
