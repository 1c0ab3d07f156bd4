"""`workbench models PROJECT list|add|remove|fit` and `workbench train --set model_id=ID`."""

from __future__ import annotations

import json

from engine.demo import DEMO_MODEL_DIR
from tests.engine.conftest import build_model_dir, make_fake_hf_cache, model_dir_files
from tests.workbench.train_helpers import FAST, labelled_demo
from workbench.cli import main
from workbench.data.models import list_models
from workbench.project import Project


def _json(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_add_list_fit_and_remove(tmp_path, capsys, monkeypatch):
    Project.create(tmp_path / "p").close()
    project = str(tmp_path / "p")
    folder = build_model_dir(tmp_path / "tiny")
    code, out = _json(capsys, "models", project, "add", str(folder), "--name", "tiny")
    assert code == 0 and out["model"]["source"] == "local" and out["model"]["name"] == "tiny"
    model_id = out["model"]["id"]

    # A Hub id found in the Hugging Face cache is "cache"; another one "hub" (downloaded later).
    cache = tmp_path / "hub"
    make_fake_hf_cache(cache, "acme/tiny", model_dir_files(folder))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    code, cached = _json(capsys, "models", project, "add", "acme/tiny")
    assert code == 0 and cached["model"]["source"] == "cache" and cached["model"]["name"] == "tiny"
    # A gated model whose weights were refused is reported, not recorded.
    make_fake_hf_cache(cache, "meta/gated", {"config.json": b"{}", "README.md": b"licence"})
    code, gated = _json(capsys, "models", project, "add", "meta/gated")
    assert code == 1 and "incomplete" in gated["error"] and "hf auth login" in gated["error"]
    code, hub = _json(capsys, "models", project, "add", "acme/other", "--trust-remote-code")
    assert code == 0 and hub["model"]["source"] == "hub" and hub["model"]["trust_remote_code"]

    code, listed = _json(capsys, "models", project, "list")
    assert [m["id"] for m in listed["models"]] == [
        model_id,
        cached["model"]["id"],
        hub["model"]["id"],
    ]
    assert main(["models", project, "list"]) == 0
    assert "acme/other" in capsys.readouterr().out

    code, fit = _json(capsys, "models", project, "fit", str(model_id), "--dtype", "float32")
    assert code == 0 and fit["parameters"] > 0 and fit["bytes"]["weights"] == 4 * fit["parameters"]
    code, training = _json(
        capsys, "models", project, "fit", str(model_id), "--training", "--dtype", "float32"
    )
    assert training["total_bytes"] > fit["total_bytes"] and training["bytes"]["optimizer"] > 0
    train_fit = ("models", project, "fit", str(model_id), "--training", "--dtype", "float32")
    _, on = _json(capsys, *train_fit, "--gradient-checkpointing", "on")
    _, off = _json(capsys, *train_fit, "--gradient-checkpointing", "off")
    assert on["bytes"]["activations"] < off["bytes"]["activations"]
    assert training["bytes"]["activations"] == off["bytes"]["activations"]  # auto: a small model
    code, missing = _json(capsys, "models", project, "fit", str(hub["model"]["id"]))
    assert code == 1 and "no model 'acme/other'" in missing["error"]

    code, removed = _json(capsys, "models", project, "remove", str(hub["model"]["id"]))
    assert code == 0 and removed["removed"] == hub["model"]["id"]
    assert len(list_models(Project.open(tmp_path / "p"))) == 2


def test_bad_models_are_refused_and_nothing_is_stored(tmp_path, capsys):
    Project.create(tmp_path / "p").close()
    project = str(tmp_path / "p")
    empty = tmp_path / "empty"
    empty.mkdir()
    pickled = build_model_dir(tmp_path / "pickled", pickle_only=True)
    for target, why in (
        (str(empty), "no config.json"),
        (str(pickled), "no .safetensors weights"),
        ("./not/there", "neither an existing folder nor a Hub id"),
    ):
        code, out = _json(capsys, "models", project, "add", target)
        assert code == 1 and why in out["error"], out
    code, out = _json(capsys, "models", project, "remove", "7")
    assert code == 1 and "no model 7" in out["error"]
    assert list_models(Project.open(tmp_path / "p")) == []
    code, out = _json(capsys, "models", project, "add", str(pickled), "--allow-pickle")
    assert code == 0 and out["model"]["allow_pickle"]


def test_train_on_a_model_named_by_id_and_keep_a_used_model(tmp_path, capsys):
    labelled_demo(tmp_path / "p").close()
    project = str(tmp_path / "p")
    code, added = _json(capsys, "models", project, "add", str(DEMO_MODEL_DIR), "--name", "second")
    model_id = added["model"]["id"]
    argv = ["train", project, "--json", "--set", f"model_id={model_id}"]
    for item in FAST:
        argv += ["--set", item]
    assert main(argv) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["ok"] and run["status"] == "done"
    opened = Project.open(tmp_path / "p")
    used = opened.db.execute("SELECT model_id FROM runs WHERE id = ?", [run["run_id"]]).fetchone()
    assert used[0] == model_id
    code, out = _json(capsys, "models", project, "remove", str(model_id))
    assert code == 1 and "training run" in out["error"] and "stays" in out["error"]
    assert model_id in [m.id for m in list_models(Project.open(tmp_path / "p"))]
