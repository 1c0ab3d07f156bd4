"""A run whose config names an accelerate config file starts with `accelerate launch`:
DDP and FSDP over 2 CPU processes (gloo) end with the same adapter, rank 0 alone records,
and launches the engine cannot run are refused before anything starts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from engine.errors import SettingsError
from tests.workbench.train_helpers import labelled_demo
from workbench.project import Project
from workbench.training.config import RunConfig
from workbench.training.launch import read_accelerate_config, require_launch

# accelerate starts several CPU processes through torchrun only for a GPU or FSDP config;
# use_cpu then puts each on the CPU (gloo).
DDP = "distributed_type: MULTI_GPU\nnum_processes: 2\nnum_machines: 1\nuse_cpu: true\n"
FSDP = (
    "distributed_type: FSDP\nnum_processes: 2\nnum_machines: 1\nuse_cpu: true\n"
    "fsdp_config:\n  fsdp_version: 2\n  fsdp_reshard_after_forward: true\n"
)
STEPS = ["max_steps=3", "eval_every=2", "checkpoint_every=2", "batch_size=4"]
SAMPLES = ["samples_per_eval=2", "sample_max_new_tokens=8"]


def _train(project: Path, accelerate_config: Path) -> dict:
    sets = [f"accelerate_config={json.dumps(str(accelerate_config))}", *STEPS, *SAMPLES]
    return _launch(["train", str(project), "--json"] + [a for s in sets for a in ("--set", s)])


def _launch(cli_args: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", *cli_args],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)  # rank 0 alone prints: one JSON document


@pytest.mark.slow
def test_fsdp_and_ddp_launches_end_with_the_same_adapter(tmp_path):
    adapters, logs = {}, {}
    for kind, text in (("ddp", DDP), ("fsdp", FSDP)):
        config = tmp_path / f"{kind}.yaml"
        config.write_text(text)
        labelled_demo(tmp_path / kind, prompts=24).close()
        out = _train(tmp_path / kind, config)
        assert out["ok"] and out["status"] == "done" and out["step"] == 3
        assert out["world_size"] == 2 and out["replicas_in_sync"] is True

        project = Project.open(tmp_path / kind)
        count = lambda sql, db=project.db: db.execute(sql).fetchone()[0]  # noqa: E731
        assert count("SELECT COUNT(*) FROM runs") == 1
        assert count("SELECT COUNT(*) FROM metrics WHERE name = 'loss'") == 3
        assert count("SELECT COUNT(*) FROM samples") > 0  # drawn by both, stored by rank 0
        steps = [r[0] for r in project.db.execute("SELECT step FROM checkpoints ORDER BY step")]
        assert steps == [2, 3]
        logs[kind] = " ".join(r[0] for r in project.db.execute("SELECT message FROM run_logs"))
        final = project.runs_dir / "1" / "checkpoints" / "step-3"
        adapters[kind] = load_file(final / "adapter_model.safetensors")
        project.close()

    # every block sharded, each process holding half of each LoRA weight
    found = re.search(r"FSDP: (\d+) blocks sharded, ([\d,]+) of ([\d,]+) LoRA", logs["fsdp"])
    assert found and int(found[1]) > 0 and "FSDP" not in logs["ddp"]
    here, total = (int(found[i].replace(",", "")) for i in (2, 3))
    assert here * 2 == total
    # rank 0 saved the adapter whole: every LoRA weight at its full shape
    assert adapters["fsdp"].keys() == adapters["ddp"].keys()
    for name, weight in adapters["ddp"].items():
        assert adapters["fsdp"][name].shape == weight.shape, name
        assert (adapters["fsdp"][name] - weight).abs().max() < 1e-5, name
    assert sum(w.abs().max() > 0 for n, w in adapters["ddp"].items() if "lora_B" in n) > 0

    # Resumed from step 2 under FSDP (the moments gathered whole, loaded into the shards;
    # the reference read from rank 0's cache by both): step 3's adapter again, exactly.
    project = Project.open(tmp_path / "fsdp")
    with project.db.conn:
        project.db.execute("UPDATE runs SET status = 'stopped', step = 2 WHERE id = 1")
        project.db.execute("DELETE FROM checkpoints WHERE step = 3")
    project.close()
    shutil.rmtree(tmp_path / "fsdp" / "runs" / "1" / "checkpoints" / "step-3")
    out = _launch(["train", str(tmp_path / "fsdp"), "--resume", "1", "--json"])
    assert out["status"] == "done" and out["step"] == 3 and out["world_size"] == 2
    final = tmp_path / "fsdp" / "runs" / "1" / "checkpoints" / "step-3"
    resumed = load_file(final / "adapter_model.safetensors")
    for name, weight in adapters["fsdp"].items():
        assert (resumed[name] - weight).abs().max() < 1e-6, name


def test_fsdp_refuses_online_algorithms_before_launching(tmp_path):
    config = tmp_path / "fsdp.yaml"
    config.write_text(FSDP)
    with pytest.raises(SettingsError, match="FSDP, which trains the offline algorithms"):
        read_accelerate_config(config, online=True)
    assert read_accelerate_config(config, online=False)["distributed_type"] == "FSDP"


def test_a_bad_accelerate_config_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(SettingsError, match="does not exist") as caught:
        read_accelerate_config(tmp_path / "missing.yaml", online=False)
    assert "accelerate config --config_file" in caught.value.hint
    deepspeed = tmp_path / "ds.yaml"
    deepspeed.write_text("distributed_type: DEEPSPEED\n")
    with pytest.raises(SettingsError, match="DEEPSPEED is not one"):
        read_accelerate_config(deepspeed, online=False)
    broken = tmp_path / "broken.yaml"
    broken.write_text("distributed_type: [\n")
    with pytest.raises(SettingsError, match="could not be read"):
        read_accelerate_config(broken, online=False)


def test_a_worker_refuses_a_run_that_needs_a_launch(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("WORKBENCH_LAUNCHED", raising=False)
    config = RunConfig.from_dict({"accelerate_config": "fsdp.yaml"})
    with pytest.raises(SettingsError, match="worker of the window cannot start") as caught:
        require_launch(config)
    assert "workbench train PROJECT" in caught.value.hint
    monkeypatch.setenv("WORKBENCH_LAUNCHED", "1")
    require_launch(config)  # inside the launch: runs
    require_launch(RunConfig.from_dict({}))  # no accelerate config: runs anywhere
