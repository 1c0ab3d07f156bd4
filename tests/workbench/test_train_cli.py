import json

import pytest

from engine.checkpoints import verify_checkpoint
from tests.workbench.train_helpers import FAST, labelled_demo, metric_names
from workbench.cli import main
from workbench.data.prompt_io import import_prompts
from workbench.project import Project
from workbench.training.runs import get_run


def train_json(capsys, project_dir, *extra):
    argv = ["train", str(project_dir), "--json"]
    for item in [*FAST, *extra]:
        argv += ["--set", item]
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_train_records_the_run_and_its_checkpoint_is_evaluable(tmp_path, capsys):
    labelled_demo(tmp_path / "p").close()
    code, out = train_json(capsys, tmp_path / "p")
    assert code == 0 and out["ok"] and out["status"] == "done" and out["step"] == 4
    project = Project.open(tmp_path / "p")
    run = get_run(project, out["run_id"])
    assert run.status == "done" and run.step == 4 and run.algorithm == "dpo"
    assert run.config["max_steps"] == 4 and run.dataset_hash
    assert run.dataset["counts"]["train"]["pairs"] + run.dataset["counts"]["eval"]["pairs"] == 24
    names = metric_names(project, run.id)
    assert {
        "loss",
        "rewards/chosen",
        "rewards/rejected",
        "rewards/margins",
        "rewards/accuracies",
        "logps/chosen",
        "logps/rejected",
        "grad_norm",
        "learning_rate",
        "eval_loss",
        "eval_rewards/accuracies",
    } <= names
    steps = [
        r[0]
        for r in project.db.execute(
            "SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step", [run.id]
        )
    ]
    assert steps == [2, 4]
    final = project.db.execute(
        "SELECT path FROM checkpoints WHERE id = ?", [out["checkpoint_id"]]
    ).fetchone()[0]
    assert verify_checkpoint(project.path / final) == []
    samples = project.db.execute(
        "SELECT step, prompt, completion, rewards FROM samples WHERE run_id = ?", [run.id]
    ).fetchall()
    assert {s[0] for s in samples} == {2, 4} and all(
        s[1] and "answer" in json.loads(s[3]) for s in samples
    )
    assert (
        project.db.execute("SELECT COUNT(*) FROM run_logs WHERE run_id = ?", [run.id]).fetchone()[0]
        >= 2
    )

    code = main(
        [
            "eval",
            str(tmp_path / "p"),
            "--checkpoint",
            str(out["checkpoint_id"]),
            "--limit",
            "5",
            "--json",
        ]
    )
    evaluation = json.loads(capsys.readouterr().out)
    assert (
        code == 0
        and evaluation["checkpoint_id"] == out["checkpoint_id"]
        and evaluation["count"] == 5
    )


@pytest.mark.parametrize("algorithm", ["kto", "reward"])
def test_other_algorithms_run_from_the_same_labels(tmp_path, capsys, algorithm):
    labelled_demo(tmp_path / "p", prompts=12).close()
    code, out = train_json(
        capsys,
        tmp_path / "p",
        f"algorithm={algorithm}",
        "max_steps=2",
        "checkpoint_every=0",
        "eval_every=0",
    )
    assert code == 0 and out["status"] == "done" and out["checkpoint_id"] is not None
    names = metric_names(Project.open(tmp_path / "p"), out["run_id"])
    assert ("accuracy" if algorithm == "reward" else "kl") in names


def test_sft_trains_on_the_references_of_a_project_without_labels(tmp_path, capsys):
    main(["demo", str(tmp_path / "d"), "--json"])
    capsys.readouterr()
    code, out = train_json(capsys, tmp_path / "d", "algorithm=sft", "eval_batches=1")
    assert code == 0 and out["status"] == "done" and out["checkpoint_id"] is not None
    assert out["dataset"]["train"]["demonstrations"] == out["prepared"]["train_examples"] > 0
    project = Project.open(tmp_path / "d")
    run = get_run(project, out["run_id"])
    assert run.config["completion_template"] == "The answer is {reference}."  # the demo's
    names = metric_names(project, run.id)
    assert {"loss", "mean_token_accuracy", "num_tokens"} <= names
    assert {"eval_loss", "eval_mean_token_accuracy"} <= names
    project.close()


def test_sft_trains_on_an_imported_chat_dataset(tmp_path, capsys):
    main(["demo", str(tmp_path / "d"), "--json"])
    capsys.readouterr()
    project = Project.open(tmp_path / "d")
    project.db.execute("DELETE FROM prompts")  # only the imported chats
    chats = tmp_path / "chats.jsonl"
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"What is {a} + 1?"},
                {"role": "assistant", "content": f"The answer is {a + 1}."},
            ],
            "split": "eval" if a % 4 == 0 else "train",
        }
        for a in range(12)
    ]
    chats.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    import_prompts(project, chats)
    project.close()
    code, out = train_json(
        capsys, tmp_path / "d", "algorithm=sft", "completion_template={reference}"
    )
    assert code == 0 and out["status"] == "done", out
    assert out["dataset"] == {"train": {"demonstrations": 9}, "eval": {"demonstrations": 3}}
    assert out["prepared"]["train_examples"] == 9 and out["prepared"]["eval_examples"] == 3
    snapshot = json.loads(
        (tmp_path / "d" / "runs" / str(out["run_id"]) / "dataset.json").read_text()
    )
    first = snapshot["train_demonstrations"][0]
    assert first["prompt"] == rows[1]["messages"][:1]  # the chat before the answer
    assert first["completion"] == "The answer is 2."


def test_a_project_without_labels_fails_with_a_clear_message(tmp_path, capsys):
    main(["demo", str(tmp_path / "d"), "--json"])
    capsys.readouterr()
    code, out = train_json(capsys, tmp_path / "d")
    assert code == 1 and out["status"] == "failed"
    assert "no preference pairs to train on" in out["error"]


def test_unknown_config_key_is_refused_before_anything_runs(tmp_path, capsys):
    labelled_demo(tmp_path / "p", prompts=4).close()
    code = main(["train", str(tmp_path / "p"), "--set", "learning_rat=1e-4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and "learning_rat" in out["error"]
    assert Project.open(tmp_path / "p").db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def test_config_file_and_set_overrides(tmp_path):
    from workbench.training.config import load_config

    path = tmp_path / "run.toml"
    path.write_text('algorithm = "ipo"\nmax_steps = 7\nsources = ["human"]\n[lora]\nr = 4\n')
    config = load_config(
        path, ["lora.alpha=8", "max_steps=9"], base={"learning_rate": 1e-4, "max_steps": 3}
    )
    assert config.train.algorithm == "ipo" and config.train.max_steps == 9
    assert config.train.learning_rate == 1e-4 and config.sources == ["human"]
    assert (config.train.lora.r, config.train.lora.alpha) == (4, 8)
    path.write_text("max_steps = \n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(path)


def test_readme_documents_every_config_key_with_its_default():
    from pathlib import Path

    from workbench.training.config import config_docs

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for key, default, _help in config_docs():
        assert f"| `{key}` |" in readme, key
        shown = "(unset)" if default is None else json.dumps(default)
        assert f"| `{key}` | `{shown}` |" in readme, (key, shown)


def test_a_nan_loss_fails_the_run_clearly_and_keeps_the_last_good_checkpoint(
    tmp_path, capsys, monkeypatch
):
    from safetensors.torch import load_file

    import engine.training.offline.dpo as objectives

    real, calls = objectives.dpo_loss, {"n": 0}

    def poisoned(*args, **kwargs):
        losses, chosen, rejected = real(*args, **kwargs)
        calls["n"] += 1
        return (losses * float("nan") if calls["n"] >= 3 else losses), chosen, rejected

    monkeypatch.setattr(objectives, "dpo_loss", poisoned)
    labelled_demo(tmp_path / "p", prompts=12).close()
    code, out = train_json(capsys, tmp_path / "p", "eval_every=0")
    assert code == 1 and out["status"] == "failed"
    assert "At step 3 the loss became NaN or infinite" in out["error"]
    project = Project.open(tmp_path / "p")
    run = get_run(project, 1)
    assert run.status == "failed" and "NaN" in run.error and run.step == 2
    rows = project.db.execute("SELECT step, path FROM checkpoints WHERE run_id = 1").fetchall()
    assert [r[0] for r in rows] == [2]
    weights = load_file(str(project.path / rows[0][1] / "adapter_model.safetensors"))
    assert all(t.isfinite().all() for t in weights.values())
