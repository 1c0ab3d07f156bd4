"""Job kinds and the functions that run them in the worker.

Handlers import the engine (and so torch) when they run, never when this registry is
imported, so the CLI and the GUI can name job kinds without loading torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

_HANDLERS = {
    "arena_judge": "workbench.jobs.handlers.arena_judge:run_arena_judge",
    "compare": "workbench.jobs.handlers.compare:run_compare",
    "generate": "workbench.jobs.handlers.generate:run_generate",
    "evaluate": "workbench.jobs.handlers.evaluate:run_evaluate",
    "export_model": "workbench.jobs.handlers.export_model:run_export_model",
    "label_judge": "workbench.jobs.handlers.label_judge:run_label_judge",
    "label_rules": "workbench.jobs.handlers.label_rules:run_label_rules",
    "rules_dry_run": "workbench.jobs.handlers.rules_dry_run:run_rules_dry_run",
    "train": "workbench.jobs.handlers.train:run_train",
}


def job_kinds() -> list[str]:
    return sorted(_HANDLERS)


def handler_for(kind: str) -> Callable:
    try:
        target = _HANDLERS[kind]
    except KeyError:
        raise ValueError(
            f"Unknown job kind {kind!r}; this worker runs {', '.join(job_kinds())}. "
            "Update the app if the job came from a newer version."
        ) from None
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)
