"""`workbench rules PROJECT list|add|edit|remove|enable|disable`: the Rules view's twin.

Rules are named by their name (unique in a project). Every change goes through
`workbench.rules.store`, which checks the rule with the engine's rule registry, so a bad
kind or parameter is refused with the registry's message and nothing is written.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from workbench.cli.output import emit_json
from workbench.project import Project


def _find(project: Project, name: str):
    from workbench.rules.store import RuleStoreError, list_rules

    rules = list_rules(project)
    for rule_id, spec in rules:
        if spec.name == name:
            return rule_id, spec
    known = ", ".join(spec.name for _, spec in rules) or "none"
    raise RuleStoreError(f"The project has no rule named {name!r}; its rules are {known}.")


def _params(text: str | None) -> dict[str, Any] | None:
    from workbench.data.prompt_io.readers import loads_strict

    if text is None:
        return None
    try:
        value = loads_strict(text)
    except ValueError as exc:
        raise ValueError(f"--params is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"--params must be a JSON object, not {type(value).__name__}")
    return value


def _done(args, action: str, rule_id: int, spec) -> int:
    if args.json:
        emit_json({"ok": True, "action": action, "rule": {"id": rule_id, **spec.to_dict()}})
    else:
        print(f"Rule {spec.name!r} {action}.")
    return 0


def cmd_list(args) -> int:
    from workbench.rules.store import list_rules

    rules = list_rules(Project.open(args.project))
    if args.json:
        emit_json({"ok": True, "rules": [{"id": i, **s.to_dict()} for i, s in rules]})
        return 0
    for rule_id, spec in rules:
        flags = ("gate " if spec.gate else "") + ("" if spec.enabled else "disabled")
        print(
            f"{rule_id:>4}  {spec.name:<16} {spec.kind:<12} weight {spec.weight:<5g} "
            f"{flags} {spec.params}"
        )
    return 0


def cmd_add(args) -> int:
    from engine.rules.spec import RuleSpec
    from workbench.rules.store import add_rule

    spec = RuleSpec(
        name=args.name,
        kind=args.kind,
        params=_params(args.params) or {},
        weight=args.weight,
        gate=args.gate,
    )
    rule_id = add_rule(Project.open(args.project), spec)
    return _done(args, "added", rule_id, spec)


def cmd_edit(args) -> int:
    from workbench.rules.store import update_rule

    project = Project.open(args.project)
    rule_id, spec = _find(project, args.rule)
    changes: dict[str, Any] = {
        "params": _params(args.params),
        "weight": args.weight,
        "gate": args.gate,
        "name": args.new_name,
    }
    spec = replace(spec, **{k: v for k, v in changes.items() if v is not None})
    update_rule(project, rule_id, spec)
    return _done(args, "edited", rule_id, spec)


def cmd_remove(args) -> int:
    from workbench.rules.store import delete_rule

    project = Project.open(args.project)
    rule_id, spec = _find(project, args.rule)
    delete_rule(project, rule_id)
    return _done(args, "removed", rule_id, spec)


def _set_enabled(args, enabled: bool) -> int:
    from workbench.rules.store import update_rule

    project = Project.open(args.project)
    rule_id, spec = _find(project, args.rule)
    spec = replace(spec, enabled=enabled)
    update_rule(project, rule_id, spec)
    return _done(args, "enabled" if enabled else "disabled", rule_id, spec)


def add_commands(sub) -> None:
    p = sub.add_parser(
        "rules", help="list, add, edit, remove, enable or disable the project's rules"
    )
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    def action(name: str, help: str, func) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=help)
        # SUPPRESS: `rules P --json list` keeps the --json given before the action
        a.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        a.set_defaults(func=func)
        return a

    action("list", "list the rules (the default)", cmd_list)

    a = action("add", "add a rule, checked by the rule registry", cmd_add)
    a.add_argument("--name", required=True)
    a.add_argument("--kind", required=True, help="exact, numeric, regex, length, ...")
    a.add_argument("--params", metavar="JSON", help='the kind\'s parameters, e.g. {"pattern": "x"}')
    a.add_argument("--weight", type=float, default=1.0, help="factor in the total reward (1)")
    a.add_argument("--gate", action="store_true", help="when it fails, other rules give 0")

    a = action("edit", "change a rule's parameters, weight, gate or name", cmd_edit)
    a.add_argument("rule", metavar="NAME")
    a.add_argument("--params", metavar="JSON", help="replaces the rule's parameters")
    a.add_argument("--weight", type=float)
    a.add_argument("--gate", action=argparse.BooleanOptionalAction, default=None)
    a.add_argument("--name", dest="new_name", metavar="NEW", help="rename the rule")

    for name, help, func in (
        ("remove", "delete a rule", cmd_remove),
        ("enable", "score with the rule again", lambda args: _set_enabled(args, True)),
        (
            "disable",
            "keep the rule but do not score with it",
            lambda args: _set_enabled(args, False),
        ),
    ):
        action(name, help, func).add_argument("rule", metavar="NAME")
