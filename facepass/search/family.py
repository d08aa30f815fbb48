"""'Me and my family': several people's results as one gallery, under one results token.

A guest who found their photos adds someone standing with them (that person's own selfie and
consent): the page then has two results tokens, one per person, and asks for one that covers
both. Each item of the merged token keeps whose face it is, so the gallery marks each photo
with who is in it, and a reload, a results link or tomorrow shows the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from facepass.errors import Forbidden, UnprocessableInput
from facepass.guest.tokens import FoundPhoto, Results

MAX_PEOPLE = 4  # the guest and three more: a family at a wedding, not a crowd
# Items one merged token may carry: it travels in a URL (GET /results?token=, 20 000 chars).
MAX_ITEMS = 600


def merge_results(session_id: uuid.UUID, claims: Sequence[Results]) -> tuple[Results, int]:
    """One claim for the photos of all `claims` (the guest's first), person by person, and
    how many people it is of.

    Each claim's people are numbered after the ones before it (a family token merged with a
    new person's keeps its numbering); the merged claim ends when the first of them does."""
    if any(claim.session_id != session_id for claim in claims):
        raise Forbidden("These results belong to another session.", code="INVALID_TOKEN")
    people: list[list[FoundPhoto]] = []
    for claim in claims:
        count = max((photo.person for photo in claim.photos), default=0) + 1
        mine: list[list[FoundPhoto]] = [[] for _ in range(count)]
        for photo in claim.photos:
            mine[photo.person].append(
                FoundPhoto(photo.photo_id, photo.box, len(people) + photo.person)
            )
        people.extend(mine)
    if len(people) > MAX_PEOPLE:
        raise UnprocessableInput(
            f"At most {MAX_PEOPLE} people in one gallery.", code="TOO_MANY_PEOPLE"
        )
    # Everyone keeps their best matches when the token would be too long.
    share = MAX_ITEMS // len(people)
    merged = [photo for person in people for photo in person[:share]]
    return Results(session_id, min(claim.expires_at for claim in claims), merged), len(people)
