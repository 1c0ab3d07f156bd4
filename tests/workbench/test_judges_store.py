import json

import pytest

import engine.demo
from tests.engine.conftest import build_model_dir
from workbench.data.models import add_model, get_model
from workbench.demo_project import DEMO_JUDGE, build_demo_project
from workbench.judging.store import (
    JudgeConfig,
    default_judge,
    delete_judge,
    get_judge,
    list_judges,
    save_judge,
    set_default_judge,
)
from workbench.project import Project


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "p")
    yield p
    p.close()


def endpoint(name="remote", **kwargs):
    return JudgeConfig(
        name=name,
        kind="endpoint",
        base_url="https://api.example.com/v1",
        model="judge-large",
        api_key_env="JUDGE_KEY",
        **kwargs,
    )


def test_save_list_get_replace_delete_and_default(project):
    model_id = add_model(project, "m", "local", "/models/m")
    with pytest.raises(KeyError, match="no judge yet"):
        default_judge(project)
    save_judge(project, JudgeConfig(name="local", model_id=model_id, criteria="Be strict."))
    save_judge(project, endpoint(concurrency=8))
    assert [j.name for j in list_judges(project)] == ["local", "remote"]
    assert default_judge(project).name == "local"  # none chosen: the first saved
    set_default_judge(project, "remote")
    assert default_judge(project).concurrency == 8
    save_judge(project, endpoint(concurrency=2))  # same name: replaced, not added
    assert [j.concurrency for j in list_judges(project) if j.name == "remote"] == [2]
    assert get_judge(project, "local").criteria == "Be strict."
    delete_judge(project, "remote")
    assert default_judge(project).name == "local"
    with pytest.raises(KeyError, match="no judge named 'remote'"):
        get_judge(project, "remote")


def test_no_api_key_is_ever_stored(project, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", "sk-very-secret")
    save_judge(project, endpoint())
    stored = project.db.execute("SELECT value FROM settings WHERE key = 'judges'").fetchone()[0]
    assert "sk-very-secret" not in stored and json.loads(stored)[0]["api_key_env"] == "JUDGE_KEY"
    with pytest.raises(ValueError, match="never stored"):
        JudgeConfig.from_dict({"name": "x", "kind": "endpoint", "api_key": "sk-1"})
    with pytest.raises(ValueError, match="NAME of the environment variable"):
        save_judge(
            project,
            JudgeConfig(
                name="x",
                kind="endpoint",
                base_url="https://a.b/v1",
                model="m",
                api_key_env="sk-abc123-def",
            ),
        )


@pytest.mark.parametrize(
    "config, message",
    [
        (JudgeConfig(name=""), "needs a name"),
        (JudgeConfig(name="j", kind="remote"), "kind is one of"),
        (JudgeConfig(name="j"), "either a model of the project"),
        (JudgeConfig(name="j", model_id=1, path="/m"), "not both"),
        (JudgeConfig(name="j", kind="endpoint", model="m"), "base URL"),
        (JudgeConfig(name="j", kind="endpoint", base_url="ftp://x", model="m"), "http"),
        (JudgeConfig(name="j", path="/m", template="{prompt} {first}"), r"\{second\}"),
        (JudgeConfig(name="j", path="/m", mode="ranking"), "mode is one of"),
        (JudgeConfig(name="j", path="/m", choices=["A"]), "two labels"),
        (JudgeConfig(name="j", path="/m", batch_size=0), "batch size"),
        (endpoint(name="j", choices=["X", "Y"]), "always asked for A or B"),
    ],
)
def test_invalid_judges_are_refused_with_the_reason(project, config, message):
    with pytest.raises(ValueError, match=message):
        save_judge(project, config)
    assert list_judges(project) == []


def test_a_judge_on_a_missing_model_row_is_refused(project):
    with pytest.raises(KeyError, match="no model 7"):
        save_judge(project, JudgeConfig(name="j", model_id=7))


def test_the_demo_project_registers_the_shipped_judge(tmp_path, monkeypatch):
    judge_dir = build_model_dir(tmp_path / "judge")
    (judge_dir / "judge.json").write_text(
        json.dumps(
            {
                "mode": "pairwise",
                "template": "{prompt} a:{first} b:{second}",
                "choices": ["a", "b"],
                "criteria": "",
            }
        )
    )
    monkeypatch.setattr(engine.demo, "DEMO_JUDGE_DIR", judge_dir)
    project = build_demo_project(tmp_path / "demo")
    judge = default_judge(project)
    assert judge.name == DEMO_JUDGE and judge.kind == "local" and judge.template is None
    record = get_model(project, judge.model_id)
    assert record.source == "demo" and record.load_spec()["path"] == str(judge_dir)
    assert get_model(project, project.setting("default_model_id")).load_spec()["path"] == str(
        engine.demo.DEMO_MODEL_DIR
    )
    project.close()
    monkeypatch.setattr(engine.demo, "DEMO_JUDGE_DIR", tmp_path / "not-shipped")
    without = build_demo_project(tmp_path / "demo2")
    assert list_judges(without) == []
    without.close()


def test_settings_from_a_newer_version_are_ignored_when_reading(project):
    project.set_setting("judges", [{"name": "j", "path": "/m", "temperature_schedule": [1, 2]}])
    assert list_judges(project) == [JudgeConfig(name="j", path="/m")]
    with pytest.raises(ValueError, match="Unknown judge setting"):
        JudgeConfig.from_dict({"name": "j", "path": "/m", "temperature_schedule": [1, 2]})
