"""The engine's errors: a stable machine `code` and a human `detail`, like every FacePass error."""

from __future__ import annotations

from typing import Literal

ImageErrorCode = Literal["CORRUPT_IMAGE", "UNSUPPORTED_FORMAT", "IMAGE_TOO_LARGE", "EMPTY_FILE"]


class ImageError(Exception):
    """An upload the engine cannot read: empty, corrupt, not an image, or too large."""

    def __init__(self, code: ImageErrorCode, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code: str = code
        self.detail = detail


class ModelError(Exception):
    """A model that cannot be found, verified or loaded (wrong checksum, missing file, licence)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
