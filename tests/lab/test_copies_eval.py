"""`facepass eval copies`, its parts that need no evaluation data: the factor's choice, the
attacker's crop and perturbations, the table."""

from __future__ import annotations

from PIL import Image

from facepass.lab.eval.copies import COPY_GRID, PERTURBATIONS, choose_factor, cut_out, table


def test_the_factor_is_the_largest_of_the_grid_within_the_genuine_budget() -> None:
    genuine = [0.13, 0.2, 0.3, 0.4] * 25  # distances / threshold: none below 0.13
    assert choose_factor(genuine, 0.01) == 0.12
    assert choose_factor([0.01, *genuine], 0.0) == COPY_GRID[0]  # nothing fits: the smallest
    assert choose_factor(genuine, 1.0) == COPY_GRID[-1]


def test_the_crop_is_the_box_with_its_margin_enlarged_three_times() -> None:
    photo = Image.new("RGB", (1000, 800), (90, 90, 90))
    crop = cut_out(photo, (400, 300, 500, 400))  # 40 px margin each side
    assert crop.size == (180 * 3, 180 * 3)
    clipped = cut_out(photo, (0, 0, 100, 100))  # the margin stops at the photo's edge
    assert clipped.size == (140 * 3, 140 * 3)
    for name, perturb in PERTURBATIONS.items():
        assert perturb(crop).size == crop.size, name


def test_the_table_marks_the_factor_judged() -> None:
    row = {
        "genuine_refused": 0.0,
        "genuine_pairs_refused": 0.0,
        **dict.fromkeys(PERTURBATIONS, 0.5),
    }
    lines = table({"factor": 0.12, "grid": {"0.1": row, "0.12": row}}).splitlines()
    assert len(lines) == 3
    assert lines[2].endswith("<")
    assert "50.0%" in lines[1]
    assert not lines[1].endswith("<")
