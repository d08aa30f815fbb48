"""Results, query and device tokens: what the guest's browser keeps instead of the server."""

from __future__ import annotations

import base64
import time
import uuid

import numpy as np
import pytest

from facepass.errors import Forbidden
from facepass.guest.tokens import FoundPhoto, GuestTokens, QueryVector

TOKENS = GuestTokens("test-secret-0123456789")
SESSION = uuid.uuid4()


def test_a_results_token_round_trips_and_names_its_session_and_faces() -> None:
    photos = [FoundPhoto(uuid.uuid4(), (10.4, 20, 300, 70000)) for _ in range(3)]
    token = TOKENS.results_token(SESSION, photos, int(time.time()) + 60)
    claim = TOKENS.read_results(token)
    assert claim.session_id == SESSION
    assert [p.photo_id for p in claim.photos] == [p.photo_id for p in photos]
    assert claim.photos[0].box == (10, 20, 300, 65535)  # whole pixels, clamped


def test_forged_other_keyed_or_expired_results_tokens_are_refused() -> None:
    photos = [FoundPhoto(uuid.uuid4(), (1, 2, 3, 4))]
    token = TOKENS.results_token(SESSION, photos, int(time.time()) + 60)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[5] ^= 1  # another session id, same signature
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    for bad in (
        forged,
        "",
        "x",
        "!!!",
        GuestTokens("another-secret").results_token(SESSION, photos, 2**31),
    ):
        with pytest.raises(Forbidden) as refused:
            TOKENS.read_results(bad)
        assert refused.value.code == "INVALID_TOKEN"
    expired = TOKENS.results_token(SESSION, photos, int(time.time()) - 1)
    with pytest.raises(Forbidden) as refused:
        TOKENS.read_results(expired)
    assert refused.value.code == "TOKEN_EXPIRED"


def test_a_query_token_is_sealed_to_its_session_and_keeps_the_embeddings() -> None:
    faces = [QueryVector(np.random.default_rng(1).random(128, dtype=np.float32), -21.5, 3.0)]
    token = TOKENS.query_token(SESSION, "dlib-resnet-v1", faces, int(time.time()) + 60)
    query = TOKENS.read_query(token, SESSION)
    assert query.model_id == "dlib-resnet-v1"
    np.testing.assert_array_equal(query.faces[0].embedding, faces[0].embedding)
    assert query.faces[0].yaw == pytest.approx(-21.5)
    # Encrypted: the embedding's bytes are nowhere in the token.
    assert faces[0].embedding.astype(">f4").tobytes()[:16] not in base64.urlsafe_b64decode(
        token + "=" * (-len(token) % 4)
    )
    for session, bad in ((uuid.uuid4(), token), (SESSION, token[:-4] + "AAAA"), (SESSION, "zz")):
        with pytest.raises(Forbidden):
            TOKENS.read_query(bad, session)


def test_device_tokens_are_signed_and_age_out() -> None:
    token = TOKENS.new_device_token()
    device = TOKENS.device_id(token)
    assert device
    assert device != TOKENS.device_id(TOKENS.new_device_token())
    assert TOKENS.device_id(token.replace(".", "x.", 1)) is None
    assert TOKENS.device_id(GuestTokens("other").new_device_token()) is None
    assert TOKENS.device_id(TOKENS.new_device_token(now=time.time() - 40 * 86400)) is None
    assert TOKENS.device_id(None) is None
    assert TOKENS.device_id("a" * 500) is None
