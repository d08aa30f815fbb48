"""Signed media links: right claims pass, anything tampered or expired is refused."""

from __future__ import annotations

import uuid

import pytest

from facepass.errors import Forbidden
from facepass.guest.signing import EXPIRY_STEP_S, MediaSigner

NOW = 1_800_000_000.0


@pytest.fixture
def signer() -> MediaSigner:
    return MediaSigner("a-signing-key-for-tests-0123456789", ttl_s=600)


def _query(path: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in path.split("?", 1)[1].split("&"))


def test_a_signed_path_verifies_until_it_expires(signer: MediaSigner) -> None:
    photo = uuid.uuid4()
    expiry = signer.expiry(NOW)
    assert NOW + 600 <= expiry <= NOW + 600 + EXPIRY_STEP_S
    path = signer.media_path(photo, "large", expiry)
    assert path.startswith(f"/media/{photo}/large?")
    query = _query(path)
    claim = signer.verify(str(photo), "large", query["exp"], query["sig"], now=NOW)
    assert (claim.photo_id, claim.size, claim.expires_at) == (photo, "large", expiry)
    with pytest.raises(Forbidden) as expired:
        signer.verify(str(photo), "large", query["exp"], query["sig"], now=expiry + 1)
    assert expired.value.code == "LINK_EXPIRED"


@pytest.mark.parametrize("tamper", ["photo", "size", "expiry", "signature", "key"])
def test_any_tampering_is_refused(signer: MediaSigner, tamper: str) -> None:
    photo = uuid.uuid4()
    expiry = signer.expiry(NOW)
    sig = signer.signature(photo, "thumb", expiry)
    args = {"photo_id": str(photo), "size": "thumb", "expires_at": str(expiry), "sig": sig}
    if tamper == "photo":
        args["photo_id"] = str(uuid.uuid4())
    elif tamper == "size":
        args["size"] = "original"
    elif tamper == "expiry":
        args["expires_at"] = str(expiry + EXPIRY_STEP_S)
    elif tamper == "signature":
        args["sig"] = sig[:-2] + ("AA" if not sig.endswith("AA") else "BB")
    else:
        other = MediaSigner("another-key-entirely-0123456789", ttl_s=600)
        args["sig"] = other.signature(photo, "thumb", expiry)
    with pytest.raises(Forbidden) as refused:
        signer.verify(now=NOW, **args)  # type: ignore[arg-type]
    assert refused.value.code == "INVALID_SIGNATURE"


@pytest.mark.parametrize(
    ("photo_id", "size", "expires_at"),
    [
        ("not-a-uuid", "thumb", "1"),
        (str(uuid.uuid4()), "huge", "1"),
        (str(uuid.uuid4()), "thumb", "x"),
    ],
)
def test_malformed_claims_are_refused(
    signer: MediaSigner, photo_id: str, size: str, expires_at: str
) -> None:
    with pytest.raises(Forbidden):
        signer.verify(photo_id, size, expires_at, "sig", now=NOW)


def test_download_tokens_claim_only_originals(signer: MediaSigner) -> None:
    photo = uuid.uuid4()
    expiry = signer.expiry(NOW)
    claim = signer.verify_token(signer.token(photo, expiry), now=NOW)
    assert (claim.photo_id, claim.size) == (photo, "original")
    thumb_sig = signer.signature(photo, "thumb", expiry)
    with pytest.raises(Forbidden):
        signer.verify_token(f"{photo}.{expiry}.{thumb_sig}", now=NOW)
    with pytest.raises(Forbidden):
        signer.verify_token("garbage", now=NOW)


def test_only_the_canonical_form_of_a_link_verifies(signer: MediaSigner) -> None:
    photo = uuid.uuid4()
    expiry = signer.expiry(NOW)
    sig = signer.signature(photo, "thumb", expiry)
    assert signer.verify(str(photo), "thumb", str(expiry), sig, now=NOW).photo_id == photo
    for photo_form, expiry_form in [
        (str(photo).upper(), str(expiry)),
        (f"{{{photo}}}", str(expiry)),
        (photo.hex, str(expiry)),
        (str(photo), f"+{expiry}"),
        (str(photo), f"0{expiry}"),
        (str(photo), f" {expiry}"),
        (str(photo), f"{expiry}_"[:-1] + "\u0661"),  # a non-ASCII digit int() accepts
    ]:
        with pytest.raises(Forbidden):
            signer.verify(photo_form, "thumb", expiry_form, sig, now=NOW)
