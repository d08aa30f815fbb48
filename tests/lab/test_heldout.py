"""The held-out protocol: tuning and test halves never share a person, sessions are full."""

from __future__ import annotations

from pathlib import Path

import pytest

from facepass.lab.eval import heldout

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
pytestmark = pytest.mark.skipif(
    not (DATA / "cfp").is_dir() or not (DATA / "lfw").is_dir(),
    reason="../shared/data/cfp and lfw are needed (see ../shared/data/README.md)",
)


def _people(sessions: list[heldout.HeldOutSession]) -> set[str]:
    return {p.person for s in sessions for p in s.photos if p.person} | {
        name for s in sessions for name in s.selfies
    }


def _images(sessions: list[heldout.HeldOutSession]) -> set[Path]:
    return set(heldout.every_path(sessions))


@pytest.mark.parametrize("dataset", ["cfp", "lfw"])
def test_tuning_and_test_halves_share_no_person_and_no_image(dataset: str) -> None:
    tune = heldout.sessions_of(DATA, dataset, "tune")
    test = heldout.sessions_of(DATA, dataset, "test")
    assert not _people(tune) & _people(test)
    assert not _images(tune) & _images(test)
    for session in [*tune, *test]:
        assert len(session.photos) == heldout.SESSION_PHOTOS
        selfies = {p for paths in session.selfies.values() for p in paths}
        assert not selfies & {p.path for p in session.photos}  # a selfie is no session photo


def test_cfp_sessions_hold_frontal_and_profile_photos_and_lfw_strangers() -> None:
    (test,) = heldout.cfp_sessions(DATA, "test")
    assert len(test.selfies) == 100
    assert set(test.selfies) == {f"cfp-{n:03d}" for n in range(201, 301)}
    kinds = [p.kind for p in test.photos]
    assert (kinds.count("frontal"), kinds.count("profile")) == (900, 300)
    selfie, angle = test.selfies["cfp-201"]
    assert (selfie.parent.name, selfie.name, angle.parent.name) == ("frontal", "01.jpg", "profile")
    celebrities = {n.strip().replace(" ", "_") for n in heldout.cfp_names(DATA)}
    test_people = heldout.lfw_people(DATA, "test")
    for photo in test.photos:
        if photo.kind == "distractor":
            assert photo.path.parent.name in test_people
            assert photo.path.parent.name not in celebrities
