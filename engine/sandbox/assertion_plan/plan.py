"""What ``plan_tests`` hands the rest of the sandbox: the child's steps, the units they
count and the parent-side tree of every assertion site."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_PROGRAM_BYTES = (1 << 20) - 8192  # fits a pipe grown to pipe-max-size (1 MiB)


@dataclass
class Unit:
    label: str
    must_sites: set[int] = field(default_factory=set)
    any_sites: bool = False  # some assertion can run in this unit: at least one must report
    top_assert: bool = False  # a bare top-level ``assert`` (its message says "(got X)")


@dataclass
class Plan:
    steps: list[dict]  # for the child, in order: {"src"|"call"|"method", "unit"}
    units: list[Unit]
    sites: dict[int, tuple]  # site id -> parent-side node tree
    site_labels: dict[int, str]
