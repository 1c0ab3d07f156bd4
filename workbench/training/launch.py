"""Runs whose config names an accelerate config file (``accelerate_config``): `workbench
train` starts them with `accelerate launch --config_file FILE`, which runs one process per
GPU (or CPU process) of that file, DDP or FSDP; rank 0 records to the project.

The file is read and checked before anything starts, so that a missing file, a kind of
launch the engine does not run, or an online algorithm under FSDP is refused at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine.errors import SettingsError

# Set in the processes `workbench train` launches: they are the launch, not a request for one.
LAUNCHED_ENV = "WORKBENCH_LAUNCHED"
# accelerate's distributed_type values the engine trains with.
SUPPORTED = ("NO", "MULTI_CPU", "MULTI_GPU", "FSDP")


def launched() -> bool:
    """True in a process started by a launcher (accelerate launch, torchrun, srun with them)."""
    return os.environ.get(LAUNCHED_ENV) == "1" or int(os.environ.get("WORLD_SIZE", "1")) > 1


def read_accelerate_config(path: str | Path, *, online: bool) -> dict[str, Any]:
    """The accelerate config file's settings, checked: a readable YAML mapping whose
    ``distributed_type`` the engine supports (FSDP for offline algorithms only)."""
    import yaml

    file = Path(path).expanduser()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            f"The accelerate config file {file} does not exist.",
            "Write one with `accelerate config --config_file FILE`, or fix accelerate_config.",
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(
            f"The accelerate config file {file} could not be read: {exc}",
            "Fix the file (YAML, as `accelerate config` writes it).",
        ) from exc
    if not isinstance(data, dict):
        raise SettingsError(f"The accelerate config file {file} is not a YAML mapping.")
    kind = str(data.get("distributed_type", "NO")).upper()
    if kind not in SUPPORTED:
        raise SettingsError(
            f"{file}: distributed_type {kind} is not one the workbench trains with.",
            "Use MULTI_GPU or MULTI_CPU (DDP) or FSDP.",
        )
    if kind == "FSDP" and online:
        raise SettingsError(
            f"{file} asks for FSDP, which trains the offline algorithms only; online "
            "algorithms sample from the whole model in each process.",
            "Use a DDP config (distributed_type MULTI_GPU or MULTI_CPU) for this run.",
        )
    return data


def launch_command(config_file: Path, cli_args: list[str]) -> list[str]:
    """The `accelerate launch` command line that runs ``workbench <cli_args>``."""
    launcher = [sys.executable, "-m", "accelerate.commands.launch"]
    return [*launcher, "--config_file", str(config_file), "-m", "workbench.cli", *cli_args]


def relaunch(config_file: Path, cli_args: list[str]) -> int:
    """Run ``workbench <cli_args>`` under `accelerate launch`; its exit status."""
    env = {**os.environ, LAUNCHED_ENV: "1"}
    return subprocess.run(launch_command(config_file, cli_args), env=env).returncode


def requested_launch(project, params: dict[str, Any]) -> Path | None:
    """The accelerate config file a `workbench train` request names (its run config's, or
    the resumed run's), checked; None when it names none."""
    from workbench.training.config import RunConfig

    config = params.get("config")
    run_id = params.get("resume_run_id", params.get("continue_run_id"))
    if config is None and run_id is not None:
        from workbench.training import runs

        config = runs.get_run(project, run_id).config
    if not config or not config.get("accelerate_config"):
        return None
    online = RunConfig.from_dict(config).train.online
    read_accelerate_config(config["accelerate_config"], online=online)
    return Path(config["accelerate_config"]).expanduser()


def require_launch(config) -> None:
    """Refuse, with the command to use, a run that names an accelerate config but was not
    started by a launcher (queued from the window: a worker is one process)."""
    if config.accelerate_config and not launched():
        raise SettingsError(
            f"This run trains over several processes ({config.accelerate_config}), which a "
            "worker of the window cannot start.",
            "Start it from a terminal: workbench train PROJECT --config FILE (or --set "
            f"accelerate_config={config.accelerate_config}); its progress shows in the window.",
        )
