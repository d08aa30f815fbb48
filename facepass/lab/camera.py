"""A still image as a video for Chromium's fake camera (--use-file-for-fake-video-capture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from facepass.demo_photos import astronaut


def write_y4m(path: Path, image: Image.Image, frames: int = 10) -> None:
    """A YUV4MPEG2 (4:2:0, full-range BT.601) video of one still frame, for Chrome's fake camera."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    height, width = rgb.shape[:2]
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b

    def subsample(plane: np.ndarray) -> np.ndarray:
        return np.asarray(plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3)))

    planes = [
        np.clip(p, 0, 255).round().astype(np.uint8).tobytes()
        for p in (y, subsample(cb), subsample(cr))
    ]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            for plane in planes:
                out.write(plane)


def turned_selfie(size: tuple[int, int] = (640, 480), turn: float = 0.5) -> Image.Image:
    """The astronaut's selfie with her head turned a little: a perspective warp that pushes
    one side of the face away (the engine measures a yaw of about 10 degrees) and narrows it."""
    side = size[1]
    portrait = ImageOps.mirror(astronaut()).crop((150, 0, 406, 256))
    portrait = portrait.resize((side, side), Image.Resampling.LANCZOS)
    near = [(0, 0), (0, side), (side, side), (side, 0)]
    shrink = turn * side / 2
    far = [(0, 0), (0, side), (side, side - shrink), (side, shrink)]
    rows, values = [], []
    for (x, y), (u, v) in zip(far, near, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        values += [u, v]
    coefficients = np.linalg.solve(np.array(rows, float), np.array(values, float))
    warped = portrait.transform(
        (side, side),
        Image.Transform.PERSPECTIVE,
        tuple(coefficients),
        Image.Resampling.BICUBIC,
        fillcolor=(40, 44, 52),
    ).resize((int(side * 0.8), side), Image.Resampling.LANCZOS)
    frame = Image.new("RGB", size, (40, 44, 52))
    frame.paste(warped, ((size[0] - warped.width) // 2 + 30, 0))
    return frame
