"""`facepass faces detect|compare` print JSON lines, the last one a summary."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

import facepass.cli.faces  # noqa: F401  (registers the commands on faces_group)
from facepass.cli.groups import faces_group
from tests.engine.conftest import encode


def _run(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(faces_group, list(args))
    return result.exit_code, [json.loads(line) for line in result.output.splitlines()]


def test_detect_prints_faces_and_a_summary(tmp_path: Path, astronaut: Image.Image) -> None:
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(encode(astronaut, "JPEG"))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a photo")

    exit_code, lines = _run("detect", str(photo), str(broken), "--embed")

    assert exit_code == 1  # one image failed
    first, second, summary = lines
    assert first["image"] == str(photo)
    faces = first["faces"]
    assert isinstance(faces, list)
    assert len(faces) == 1
    assert len(faces[0]["embedding"]) == 256  # the default model's
    assert faces[0]["skip_reasons"] == []
    assert second["error"] == {  # type: ignore[comparison-overlap]
        "code": "UNSUPPORTED_FORMAT",
        "detail": "The file is not an image in a supported format.",
    }
    assert summary["summary"]["images"] == 2  # type: ignore[index]
    assert summary["summary"]["faces"] == 1  # type: ignore[index]


def test_compare_two_images_and_a_pairs_file(tmp_path: Path, astronaut: Image.Image) -> None:
    (tmp_path / "a.jpg").write_bytes(encode(astronaut, "JPEG"))
    (tmp_path / "b.png").write_bytes(encode(astronaut.resize((400, 400)), "PNG"))
    (tmp_path / "empty.png").write_bytes(encode(Image.new("RGB", (300, 300), "white"), "PNG"))

    exit_code, lines = _run("compare", str(tmp_path / "a.jpg"), str(tmp_path / "b.png"))
    assert exit_code == 0
    assert lines[0]["same_person"] is True
    assert lines[-1]["summary"]["pairs"] == 1  # type: ignore[index]

    pairs = tmp_path / "pairs.csv"
    pairs.write_text("image_a,image_b\na.jpg,b.png\na.jpg,empty.png\n")
    exit_code, lines = _run("compare", "--pairs", str(pairs))
    assert exit_code == 1
    assert lines[0]["same_person"] is True
    assert lines[1]["error"] == {"image_a": None, "image_b": "NO_FACE_FOUND"}
    assert lines[-1]["summary"]["errors"] == 1  # type: ignore[index]
