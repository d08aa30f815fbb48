"""Verifying the audit log's hash chain (migration 0010_audit_chain).

Each row's `row_hash` is SHA-256 over the previous row's hash and the row's own fields; the
head row (`audit_chain_head`) holds the count and the last hash. The check recomputes every
hash here, with its own expression (not the database's function), and reports:

- `changed`: a row whose fields no longer give its hash (or whose link was rewritten);
- `deleted`: rows missing between two others (the sequence jumps and the link breaks);
- `truncated`: rows missing at the end, or the whole table emptied (the head remembers them);
- `head_missing`: the head itself was deleted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

GENESIS = "0" * 64

# The same fields, order and separator as the trigger's `audit_row_hash` (migration 0010).
_ROWS = text(
    r"""
    SELECT seq, id, prev_hash, row_hash,
           encode(sha256(convert_to(concat_ws(E'\x1f',
               prev_hash, seq::text, id::text,
               ((extract(epoch FROM at) * 1000000)::bigint)::text,
               actor, action, coalesce(session_id::text, ''), counts::text,
               coalesce(request_id, '')), 'UTF8')), 'hex') AS recomputed
    FROM audit_log ORDER BY seq
    """
)
_HEAD = text("SELECT row_count, last_hash FROM audit_chain_head WHERE singleton")
# Whether the connected role could rewrite history: it owns the table (and so can disable
# its triggers) or holds UPDATE, DELETE or TRUNCATE on it.
_ROLE = text(
    """
    SELECT current_user AS role,
           (SELECT tableowner = current_user FROM pg_tables
             WHERE tablename = 'audit_log' AND schemaname = current_schema()) AS owner,
           has_table_privilege('audit_log', 'UPDATE') OR has_table_privilege('audit_log', 'DELETE')
             OR has_table_privilege('audit_log', 'TRUNCATE') AS may_change
    """
)


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # changed, deleted, truncated, head_missing
    seq: int | None
    id: int | None
    detail: str


@dataclass
class ChainReport:
    """What `facepass audit verify` prints."""

    rows: int = 0
    head_rows: int | None = None
    problems: list[Problem] = field(default_factory=list)
    role: str = ""
    role_can_tamper: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "head_rows": self.head_rows,
            "problems": [asdict(p) for p in self.problems],
            "role": self.role,
            "role_can_tamper": self.role_can_tamper,
        }


def verify_chain(conn: Connection) -> ChainReport:
    """Recompute the whole chain; every break it finds, in order."""
    report = ChainReport()
    role = conn.execute(_ROLE).one()
    report.role, report.role_can_tamper = role.role, bool(role.owner or role.may_change)
    expected_seq, previous = 1, GENESIS
    for row in conn.execution_options(yield_per=1000).execute(_ROWS):
        report.rows += 1
        if row.seq != expected_seq:
            missing = row.seq - expected_seq
            report.problems.append(
                Problem("deleted", expected_seq, None, f"{missing} row(s) before seq {row.seq}")
            )
        elif row.prev_hash != previous:
            report.problems.append(Problem("changed", row.seq, row.id, "link to previous row"))
        if row.recomputed != row.row_hash:
            report.problems.append(Problem("changed", row.seq, row.id, "fields do not match"))
        expected_seq, previous = row.seq + 1, row.row_hash
    head = conn.execute(_HEAD).first()
    if head is None:
        report.problems.append(Problem("head_missing", None, None, "audit_chain_head is empty"))
        return report
    report.head_rows = int(head.row_count)
    last_seq = expected_seq - 1
    if head.row_count > last_seq:
        report.problems.append(
            Problem(
                "truncated",
                last_seq + 1,
                None,
                f"{head.row_count - last_seq} row(s) after seq {last_seq} are gone",
            )
        )
    elif head.row_count < last_seq or head.last_hash != previous:
        report.problems.append(Problem("changed", last_seq, None, "last row differs from head"))
    return report
