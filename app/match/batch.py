"""Batch assignment: read the member CSV, assign plan by plan, write the results CSV.

Pure work: the job around it (state, progress, retries) lives in app/jobs/runner.py."""

import csv
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from marshmallow import ValidationError

from app.engines.base import Engine
from app.match.assign import solve, total_cost
from app.match.explain import present_offer
from app.match.member import Member, MemberRowSchema
from app.match.offers import build_table, search_offers
from app.match.rules import Rules
from app.validation_messages import flatten_messages

RESULT_COLUMNS = (
    "member_id",
    "line",
    "status",
    "npi",
    "provider_name",
    "plan",
    "line_of_business",
    "plan_provider_id",
    "location_id",
    "location_name",
    "address",
    "city",
    "zip",
    "phone",
    "distance_miles",
    "cost",
    "reasons",
    "blocked_rule",
    "blocked_reason",
)
ERROR_COLUMNS = ("line", "member_id", "field", "reason")


class MemberFileError(ValueError):
    """The member file cannot be read at all (not CSV, no header, missing columns)."""


def read_members(path: Path) -> Iterator[tuple[int, Member | None, list[dict]]]:
    """(line, member or None, errors) for each data row; errors name the field, never the value."""
    schema = MemberRowSchema()
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in ("member_id", "plan", "line_of_business", "age") if c not in header]
        if missing or not ({"home", "address"} & set(header)):
            raise MemberFileError(
                "the member file needs the columns member_id, home (or address), plan, "
                f"line_of_business and age; missing: {', '.join(missing) or 'home'}"
            )
        for row in reader:
            line = reader.line_num
            member_id = (row.get("member_id") or "").strip()
            try:
                yield line, schema.load(row), []
            except ValidationError as exc:
                errors = [
                    {"line": line, "member_id": member_id, "field": name, "reason": message}
                    for name, messages in flatten_messages(exc.normalized_messages()).items()
                    for message in messages
                ]
                yield line, None, errors


def read_member_file(path: Path) -> tuple[list[Member], list[int], list[dict]]:
    """The valid members, their line numbers, and the errors of the rows that are not."""
    members, lines, errors = [], [], []
    for line, member, row_errors in read_members(path):
        if member is None:
            errors.extend(row_errors)
        else:
            lines.append(line)
            members.append(member)
    return members, lines, errors


def write_results(result_path: Path, errors_path: Path, results, errors) -> None:
    _write_atomically(result_path, RESULT_COLUMNS, results)
    _write_atomically(errors_path, ERROR_COLUMNS, errors)


def _write_atomically(path: Path, columns, rows) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def result_paths(out_dir: Path, job_id: str) -> tuple[Path, Path]:
    return out_dir / f"{job_id}.result.csv", out_dir / f"{job_id}.errors.csv"


def assign_all(
    engine: Engine,
    rules: Rules,
    members: list[Member],
    lines: list[int],
    progress: Callable[[int], None],
) -> tuple[list[dict], int]:
    """Result rows (in member order) and the total cost, solving plan by plan."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, member in enumerate(members):
        groups.setdefault((member.plan, member.line_of_business), []).append(i)
    results: list[dict] = [{} for _ in members]
    scored = cost = 0
    for (plan, lob), indexes in groups.items():
        table = build_table(
            list(search_offers(engine, plan=plan, line_of_business=lob)),
            rules.default_panel_capacity,
        )
        group = [members[i] for i in indexes]
        outcomes = solve(group, table, rules, lambda done, base=scored: progress(base + done))
        cost += total_cost(outcomes)
        scored += len(group)
        for i, outcome in zip(indexes, outcomes, strict=True):
            results[i] = _result_row(members[i], lines[i], outcome, table)
    return results, cost


def _result_row(member: Member, line: int, outcome, table) -> dict:
    row = {"member_id": member.member_id, "line": line}
    if outcome.offer is None:
        return {
            **row,
            "status": "unassigned",
            "plan": member.plan,
            "line_of_business": member.line_of_business,
            "blocked_rule": outcome.rule,
            "blocked_reason": outcome.reason,
        }
    offer = present_offer(table.rows[outcome.offer])
    location = offer["location"]
    return {
        **row,
        "status": "assigned",
        "npi": offer["npi"],
        "provider_name": offer["name"],
        "plan": offer["plan"]["plan"],
        "line_of_business": offer["plan"]["line_of_business"],
        "plan_provider_id": offer["plan_provider_id"],
        "location_id": location["location_id"],
        "location_name": location["name"],
        "address": location["address"],
        "city": location["city"],
        "zip": location["zip"],
        "phone": location["phone"],
        "distance_miles": f"{outcome.distance:.3f}",
        "cost": outcome.cost,
        "reasons": "; ".join(outcome.reasons),
    }
