"""The shared multipart reader: complete parts only, strict headers, every error a 4xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from facepass.errors import FacePassError
from facepass.http.multipart import (
    MAX_HEADER_BYTES,
    PartInfo,
    multipart_boundary,
    read_multipart,
)

DISPOSITION = b'Content-Disposition: form-data; name="files"; filename="a.jpg"'


class Recorder:
    """A PartHandler that keeps every part it is given, with its bytes."""

    def __init__(self, wanted: str = "files") -> None:
        self.wanted = wanted
        self.parts: list[tuple[PartInfo, bytes]] = []
        self.open: list[bytes] = []

    def on_part(self, part: PartInfo) -> bool:
        if part.name != self.wanted:
            return False
        self.parts.append((part, b""))
        return True

    def on_data(self, data: bytes) -> None:
        part, body = self.parts[-1]
        self.parts[-1] = (part, body + data)

    def on_part_end(self) -> None:
        self.open.append(self.parts[-1][1])


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def read(body: bytes, boundary: bytes = b"zz", chunk: int = 7) -> Recorder:
    recorder = Recorder()
    asyncio.run(read_multipart(boundary, _chunks(body, chunk), recorder, max_parts=10))
    return recorder


def refused(body: bytes, boundary: bytes = b"zz") -> FacePassError:
    with pytest.raises(FacePassError) as caught:
        read(body, boundary)
    assert 400 <= caught.value.status_code < 500
    return caught.value


def part(headers: bytes, data: bytes, boundary: bytes = b"zz") -> bytes:
    return b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + data + b"\r\n"


def test_a_well_formed_body_yields_complete_parts_whatever_the_chunking() -> None:
    body = (
        part(DISPOSITION + b"\r\nContent-Type: image/jpeg", b"\xff\xd8one\r\n--z")
        + part(b'Content-Disposition: form-data; name="note"', b"ignored")
        + part(DISPOSITION.replace(b"a.jpg", b"b.jpg"), b"two")
        + b"--zz--\r\n"
    )
    for chunk in (1, 3, 64, len(body)):
        recorder = read(body, chunk=chunk)
        assert recorder.open == [b"\xff\xd8one\r\n--z", b"two"]
        assert [p.filename for p, _ in recorder.parts] == ["a.jpg", "b.jpg"]
        assert recorder.parts[0][0].content_type == "image/jpeg"


def test_a_body_without_its_closing_boundary_is_refused() -> None:
    cut = b"--zz\r\n" + DISPOSITION + b"\r\n\r\nx"
    error = refused(part(DISPOSITION, b"\xff\xd8complete") + cut)
    assert error.code == "MALFORMED_MULTIPART"
    assert "closing boundary" in error.detail
    assert refused(b"").code == "MALFORMED_MULTIPART"  # no part at all
    assert refused(b"--zz\r\n" + DISPOSITION + b"\r\n\r\n\xff\xd8cut").code == "MALFORMED_MULTIPART"


@pytest.mark.parametrize(
    "body",
    [
        part(b'Content-Disposition: form-data; name="selfie"', b"x", b"yy") + b"--yy--\r\n",
        part(b"Content-Disposition form-data", b"x") + b"--zz--\r\n",  # header without colon
        b'--zz\nContent-Disposition: form-data; name="files"\n\nx\n--zz--\n',  # LF only
        b"--zzjunk\r\n" + DISPOSITION + b"\r\n\r\nx\r\n--zz--\r\n",  # junk after the boundary
        b"--zz\r\n\r\nx\r\n--zz--\r\n",  # a part with no headers
        part(b"Content-Type: image/jpeg", b"x") + b"--zz--\r\n",  # no Content-Disposition
        part(b'Content-Disposition: attachment; name="files"', b"x") + b"--zz--\r\n",
        part(b"\r\n".join([b"X-H: 1"] * 8 + [DISPOSITION]), b"x") + b"--zz--\r\n",
        part(DISPOSITION.replace(b"a.jpg", b"a\x00b.jpg"), b"x") + b"--zz--\r\n",  # NUL
        part(DISPOSITION.replace(b"a.jpg", b"a\x1bb.jpg"), b"x") + b"--zz--\r\n",  # ESC
        part(DISPOSITION.replace(b"a.jpg", "a\u0085b.jpg".encode()), b"x") + b"--zz--\r\n",
        part(b'Content-Disposition: form-data; name="fi\x7fles"', b"x") + b"--zz--\r\n",
    ],
)
def test_malformed_bodies_are_a_400_in_the_common_shape(body: bytes) -> None:
    assert refused(body).status_code == 400


@pytest.mark.parametrize("boundary", [b"z" * 71, b"z" * 5000, b"a\x00b", b"ends-in-space ", b""])
def test_boundaries_outside_rfc_2046_are_refused(boundary: bytes) -> None:
    body = part(DISPOSITION, b"x", boundary) + b"--" + boundary + b"--\r\n"
    assert refused(body, boundary).code == "MALFORMED_MULTIPART"


def test_parts_and_ignored_fields_are_bounded() -> None:
    many = b"".join(part(DISPOSITION, b"x") for _ in range(11)) + b"--zz--\r\n"
    assert refused(many).status_code == 413
    big_field = part(b'Content-Disposition: form-data; name="n"', b"a" * 70_000) + b"--zz--\r\n"
    assert refused(big_field).status_code == 413
    long_header = b"Content-Disposition: form-data; x-" + b"a" * 60_000 + b'="1"'
    assert refused(part(long_header, b"x") + b"--zz--\r\n").code == "MALFORMED_MULTIPART"
    at_limit = b"X-Pad: " + b"a" * (MAX_HEADER_BYTES - 200) + b"\r\n" + DISPOSITION
    assert read(part(at_limit, b"x") + b"--zz--\r\n").open == [b"x"]


def test_the_boundary_comes_from_a_multipart_form_data_content_type_only() -> None:
    assert multipart_boundary("multipart/form-data; boundary=zz") == b"zz"
    assert multipart_boundary('multipart/form-data; boundary="a b"') == b"a b"
    assert multipart_boundary("multipart/form-data") is None
    assert multipart_boundary("application/json") is None
    assert multipart_boundary(None) is None
