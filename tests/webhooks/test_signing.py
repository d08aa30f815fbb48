"""Webhook signatures: receivers can tell genuine, tampered, foreign and replayed requests."""

from __future__ import annotations

import time

from facepass.webhooks.signing import sign, verify

SECRET = "whsec-test-0123456789abcdef"
BODY = b'{"type":"session.facepass_status_changed"}'


def test_a_signature_verifies_with_the_same_secret_and_body() -> None:
    assert verify(SECRET, sign(SECRET, BODY), BODY)


def test_tampered_body_foreign_secret_and_garbage_are_refused() -> None:
    header = sign(SECRET, BODY)
    assert not verify(SECRET, header, BODY + b" ")
    assert not verify("another-secret", header, BODY)
    assert not verify(SECRET, "v1=deadbeef", BODY)
    assert not verify(SECRET, "t=abc,v1=deadbeef", BODY)
    assert not verify(SECRET, "", BODY)


def test_old_signatures_are_refused_as_replays() -> None:
    old = sign(SECRET, BODY, timestamp=int(time.time()) - 3600)
    assert not verify(SECRET, old, BODY)
    assert verify(SECRET, old, BODY, tolerance_s=7200)
