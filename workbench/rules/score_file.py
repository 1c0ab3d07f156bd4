"""Scoring a file of completions with the project's rules (`workbench score`).

Each JSONL line is {"prompt" or "prompt_id", "completion", "reference"?}. A `prompt_id`
names a project prompt, as does a `prompt` text equal to one's; that prompt's reference is
used when the line gives none. All lines are
read and checked before anything is scored or stored: one bad line fails the file.
Stored, each completion is added for its prompt (a `prompt` text must be a project
prompt then) with its rule scores, as the app stores the completions it scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.rules.reward import RewardBatch
from engine.rules.spec import RuleSpec
from workbench.data.completions import CompletionRecord, add_completions
from workbench.data.prompt_io import readers
from workbench.data.prompt_io.errors import ImportFailed, LineError
from workbench.data.prompt_io.limits import max_chars, too_long
from workbench.data.prompts import PromptRecord, get_prompt, list_prompts, type_name
from workbench.project import Project
from workbench.rules.scoring import score_rows, store_scores
from workbench.rules.store import RuleStoreError, list_rules


@dataclass(frozen=True)
class ScoreLine:
    line: int
    prompt: str  # what the rules see: the text, or a chat's last user message
    completion: str
    reference: str | None
    prompt_id: int | None  # the project prompt, when the line names or matches one


def specs_named(project: Project, names: list[str] | None) -> list[RuleSpec]:
    """The rules of `names` (enabled or not), or every enabled rule."""
    rules = [spec for _, spec in list_rules(project)]
    if names is None:
        specs = [s for s in rules if s.enabled]
        if not specs:
            raise RuleStoreError("The project has no enabled rule; add one with `workbench rules`.")
        return specs
    by_name = {s.name: s for s in rules}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise RuleStoreError(
            f"The project has no rule named {', '.join(map(repr, missing))}; "
            f"its rules are {', '.join(by_name) or 'none'}."
        )
    # a named rule is scored even when disabled: the user asked for it by name
    return [RuleSpec(**{**by_name[n].to_dict(), "enabled": True}) for n in names]


def read_score_file(project: Project, path: Path, store: bool) -> list[ScoreLine]:
    """Every line of the file, or ImportFailed naming each bad one."""
    source = readers.open_source(path, "jsonl")
    if source.total == 0:
        raise ImportFailed([LineError(0, f"{path.name} holds no completions")], path)
    by_text = _prompts_by_text(project)
    limit = max_chars(project)
    lines: list[ScoreLine] = []
    errors: list[LineError] = []
    for number, item in source.items:
        parsed = _line(project, number, item, by_text, store) if isinstance(item, dict) else item
        if isinstance(parsed, ScoreLine):
            parsed = (
                too_long({"completion": parsed.completion, "reference": parsed.reference}, limit)
                or parsed
            )
        if isinstance(parsed, str):
            errors.append(LineError(number, f"line {number}: {parsed}"))
        else:
            lines.append(parsed)
    if errors:
        raise ImportFailed(errors, path)
    return lines


def _prompts_by_text(project: Project) -> dict[str, PromptRecord]:
    found: dict[str, PromptRecord] = {}
    for record in list_prompts(project, limit=None):
        if record.text is not None:
            found.setdefault(record.text, record)
    return found


def _line(
    project: Project, number: int, raw: dict[str, Any], by_text: dict, store: bool
) -> ScoreLine | str:
    completion = raw.get("completion")
    if not isinstance(completion, str):
        return f"'completion' must be a string, not {type_name(completion)}"
    reference = raw.get("reference")
    if reference is not None and not isinstance(reference, str):
        return f"'reference' must be a string, not {type_name(reference)}"
    if "prompt_id" in raw:
        prompt_id = raw["prompt_id"]
        if isinstance(prompt_id, bool) or not isinstance(prompt_id, int):
            return f"'prompt_id' must be a number, not {type_name(prompt_id)}"
        try:
            record = get_prompt(project, prompt_id)
        except KeyError:
            return f"the project has no prompt {prompt_id}"
        ref = reference if reference is not None else record.reference
        return ScoreLine(number, record.display_text, completion, ref, prompt_id)
    prompt = raw.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return f"expected a 'prompt' (text) or a 'prompt_id', found {type_name(prompt)}"
    known = by_text.get(prompt)
    if store and known is None:
        return "this prompt is not in the project; import it first or give its 'prompt_id'"
    if known is None:
        return ScoreLine(number, prompt, completion, reference, None)
    ref = reference if reference is not None else known.reference
    return ScoreLine(number, prompt, completion, ref, known.id)


def store_scored(
    project: Project, lines: list[ScoreLine], batch: RewardBatch, file_name: str
) -> list[int]:
    """Add each completion for its prompt with its scores, all in one transaction."""
    settings = {"scored_from": file_name}
    records = [
        CompletionRecord(prompt_id=line.prompt_id, text=line.completion, settings=settings)
        for line in lines
        if line.prompt_id is not None
    ]
    with project.transaction() as conn:
        ids = add_completions(project, records, conn=conn)
        store_scores(project, ids, batch, conn=conn)
    return ids


def score_lines(specs: list[RuleSpec], lines: list[ScoreLine]) -> RewardBatch:
    rows = [{"prompt": ln.prompt, "text": ln.completion, "reference": ln.reference} for ln in lines]
    return score_rows(specs, rows)
