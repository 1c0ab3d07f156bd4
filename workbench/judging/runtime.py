"""Turning a job's judge settings into a working judge, in the worker.

A job names a stored judge ("judge"), or carries a one-off config ("judge_config", e.g.
an endpoint given on the command line); "template" and "criteria" override either. A
local judge model is loaded through the worker's model session, so it replaces the
model held there (the next generate job loads its model again).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.judging.store import JudgeConfig, default_judge, endpoint_settings, get_judge
from workbench.project import Project


def resolve_judge_config(project: Project, params: dict[str, Any]) -> JudgeConfig:
    if params.get("judge_config"):
        config = JudgeConfig.from_dict(dict(params["judge_config"]))
    elif params.get("judge"):
        config = get_judge(project, params["judge"])
    else:
        config = default_judge(project)
    for key in ("template", "criteria"):
        if params.get(key) is not None:
            setattr(config, key, params[key])
    config.validate(project)
    return config


def local_model(project: Project, config: JudgeConfig) -> tuple[dict[str, Any], str]:
    """The ModelSpec keyword arguments of a local judge and the name it goes by."""
    if config.model_id is not None:
        from workbench.data.models import get_model

        record = get_model(project, config.model_id)
        return record.load_spec(), record.name
    path = str(config.path)
    return {"path": path}, Path(path).name if Path(path).expanduser().exists() else path


def build_pair_judge(session: Any, project: Project, config: JudgeConfig, on_status=None) -> Any:
    """A judge that compares pairs (engine.judge.base.Judge), built from ``config``."""
    if config.mode == "pointwise":
        raise ValueError(
            f"Judge {config.name!r} scores single completions (pointwise); labelling "
            "pairs needs a pairwise judge. Change its mode or pick another judge."
        )
    if config.kind == "endpoint":
        from engine.judge.endpoint import EndpointJudge

        return EndpointJudge(endpoint_settings(config))
    from engine.judge.local import build_local_judge
    from engine.model_source import ModelSpec

    spec, name = local_model(project, config)
    if on_status is not None:
        on_status(f"loading judge {name}")
    loaded = session.get(ModelSpec(**spec), label=name)
    return build_local_judge(
        loaded,
        mode="pairwise",
        template=config.template,
        criteria=config.criteria,
        choices=config.choices,
        batch_size=config.batch_size,
        name=name,
    )


def build_judge_for_reward(project: Project, name: str, device: str = "auto") -> tuple[Any, str]:
    """(judge, mode) of the stored judge ``name`` for an online run's reward. A local judge
    model is loaded on its own beside the policy (the session holds the policy)."""
    config = get_judge(project, name)
    config.validate(project)
    if config.kind == "endpoint":
        from engine.judge.endpoint import EndpointJudge

        return EndpointJudge(endpoint_settings(config)), config.mode or "pairwise"
    from engine.judge.local import build_local_judge, load_judge_config
    from engine.loading import load_model
    from engine.model_source import ModelSpec

    spec, model_name = local_model(project, config)
    loaded = load_model(ModelSpec(**spec), device=device)
    mode = config.mode or load_judge_config(loaded.source_dir).mode
    judge = build_local_judge(
        loaded,
        mode=mode,
        template=config.template,
        criteria=config.criteria,
        choices=config.choices,
        batch_size=config.batch_size,
        name=model_name,
    )
    return judge, mode
