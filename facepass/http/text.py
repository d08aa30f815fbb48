"""Short display text (names a studio types): one rule, stated in the schema and enforced.

The rule lives in the OpenAPI schema as a `pattern`, so a client (or a fuzzer) that follows the
schema is never refused by a hidden check. It keeps out what would corrupt a page, a ZIP entry's
name or a log line: control characters (C0, DEL, C1), line and paragraph separators, and the
bidirectional overrides that could make a name read backwards on a guest's page.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

# ECMA-262, Python `re` and Rust `regex` (pydantic-core) all read `\uXXXX` the same way.
DISPLAY_TEXT_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$"


def _blank_is_none(value: str) -> str | None:
    return value.strip() or None


# A name of at most 120 characters (a person, an event, a studio); blank reads as none.
DisplayName = Annotated[
    str,
    StringConstraints(max_length=120, pattern=DISPLAY_TEXT_PATTERN),
    AfterValidator(_blank_is_none),
]
