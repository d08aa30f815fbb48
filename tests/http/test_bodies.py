"""Strict JSON parsing of small bodies: every failure a 400, never a RecursionError or 500."""

from __future__ import annotations

import pytest

from facepass.http.bodies import MAX_JSON_DEPTH, MalformedBody, parse_json


def test_well_formed_json_parses() -> None:
    assert parse_json(b'{"tokens": ["a", "b\\"]"]}') == {"tokens": ["a", 'b"]']}
    nested = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert isinstance(parse_json(nested), list)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe{}",
        b'{"tokens": ["\xc3"]}',
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
        b'{"a": NaN}',
        b"Infinity",
        b"",
    ],
)
def test_malformed_json_is_a_400(body: bytes) -> None:
    with pytest.raises(MalformedBody) as caught:
        parse_json(body)
    assert caught.value.status_code == 400
