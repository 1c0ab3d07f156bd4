"""What an SFT run trains on: the prompts' references through the completion template, or
the chosen and desirable completions of the labels; the counts the Train view shows; and
the snapshot a resumed run reads back, which holds exactly the same examples."""

from __future__ import annotations

import pytest

from tests.engine.training.helpers import demo_data
from tests.workbench.train_helpers import labelled_demo
from workbench.data.completions import CompletionRecord, add_completions
from workbench.data.prompts import list_prompts
from workbench.demo_project import build_demo_project
from workbench.labels.completion_labels import add_label
from workbench.training.config import RunConfig
from workbench.training.data import (
    build_train_data,
    combined_hash,
    dataset_counts,
    load_snapshot,
    save_snapshot,
)
from workbench.training.demonstrations import demonstration_builder, fill

DEMO_FORMAT = "The answer is {reference}."


def sft(**values) -> RunConfig:
    return RunConfig.from_dict({"algorithm": "sft", **values})


@pytest.fixture
def demo(tmp_path):
    project = build_demo_project(tmp_path / "demo")
    yield project
    project.close()


def expected(project, split: str) -> list[tuple]:
    """Each distinct (prompt, reference) of the split, in prompt order."""
    seen: list[tuple] = []
    for r in list_prompts(project, split=split, limit=None):
        if r.reference is not None and (r.text, r.reference) not in seen:
            seen.append((r.text, r.reference))
    return seen


def test_references_become_demonstrations_through_the_template(demo):
    data, snapshot, digest = build_train_data(demo, sft(completion_template=DEMO_FORMAT))
    train, evaluation = expected(demo, "train"), expected(demo, "eval")
    assert [(d.prompt, d.completion) for d in data.train_demonstrations] == [
        (prompt, f"The answer is {reference}.") for prompt, reference in train
    ]
    assert [(d.prompt, d.completion) for d in data.eval_demonstrations] == [
        (prompt, f"The answer is {reference}.") for prompt, reference in evaluation
    ]
    assert len({d.key for d in data.train_demonstrations}) == len(train)  # each once
    assert not (data.train_pairs or data.train_unpaired or data.train_prompts)
    assert data.sample_prompts == [prompt for prompt, _ in evaluation[:4]]  # samples_per_eval
    assert snapshot["counts"] == {
        "train": {"demonstrations": len(train)},
        "eval": {"demonstrations": len(evaluation)},
    }
    assert snapshot["demonstrations"]["source"] == "references"
    assert snapshot["demonstrations"]["template"] == DEMO_FORMAT
    # The same project gives the same hash; another template, other examples and hash.
    assert build_train_data(demo, sft(completion_template=DEMO_FORMAT))[2] == digest
    plain, _, plain_digest = build_train_data(demo, sft())
    assert plain.train_demonstrations[0].completion == train[0][1]
    assert plain_digest != digest


def test_the_template_replaces_only_the_reference():
    assert fill('{"answer": {reference}}', "42") == '{"answer": 42}'
    assert fill("{reference} / {reference}", "x") == "x / x"


def test_chosen_demonstrations_come_from_the_labels(tmp_path):
    project = labelled_demo(tmp_path / "p", prompts=6, eval_prompts=2)
    # A completion labelled desirable, one labelled undesirable, and a repeat of a chosen one.
    prompt = list_prompts(project, split="train", limit=None)[10]
    chosen_again = list_prompts(project, split="train", limit=None)[0]
    good, bad, again = add_completions(
        project,
        [
            CompletionRecord(prompt.id, f"The answer is {prompt.reference}."),
            CompletionRecord(prompt.id, "The answer is 0."),
            CompletionRecord(chosen_again.id, f"The answer is {chosen_again.reference}."),
        ],
    )
    add_label(project, good, True, "human")
    add_label(project, bad, False, "human")
    add_label(project, again, True, "human")
    data, snapshot, _ = build_train_data(project, sft(sft_source="chosen"))
    train = [(d.prompt, d.completion) for d in data.train_demonstrations]
    labelled = list_prompts(project, split="train", limit=6)
    assert train == [(r.text, f"The answer is {r.reference}.") for r in labelled] + [
        (prompt.text, f"The answer is {prompt.reference}.")
    ]
    assert len(data.eval_demonstrations) == 2 and not snapshot["held_out"]
    assert snapshot["demonstrations"]["source"] == "chosen"
    assert snapshot["counts"]["train"] == {"demonstrations": 7}
    # Only human labels: the desirable completions alone, none on an eval-split prompt, so
    # a share of the labelled prompts is held out as DPO's would be.
    humans, held, _ = build_train_data(project, sft(sft_source="chosen", sources=["human"]))
    assert held["held_out"] and len(humans.eval_demonstrations) == 1
    assert {d.completion for d in humans.train_demonstrations + humans.eval_demonstrations} == {
        f"The answer is {prompt.reference}.",
        f"The answer is {chosen_again.reference}.",
    }
    project.close()


def test_the_counts_say_how_many_demonstrations_a_run_would_train_on(tmp_path):
    project = labelled_demo(tmp_path / "p", prompts=6, eval_prompts=2)
    plain = dataset_counts(project, ["rule"])
    assert "demonstrations" not in plain["train"]
    chosen = dataset_counts(project, ["rule"], demonstrations="chosen")
    assert chosen["train"]["demonstrations"] == 6 and chosen["eval"]["demonstrations"] == 2
    assert chosen["train"]["pairs"] == plain["train"]["pairs"] == 6  # the labels' counts too
    references = dataset_counts(project, ["rule"], demonstrations="references")
    assert references["train"]["demonstrations"] == len(expected(project, "train"))
    assert references["eval"]["demonstrations"] == len(expected(project, "eval"))
    with pytest.raises(ValueError, match="sft_source must be one of references, chosen"):
        demonstration_builder("labels")
    project.close()


def test_the_snapshot_reads_back_the_same_examples_and_hash(demo, tmp_path):
    data, _, digest = build_train_data(demo, sft(completion_template=DEMO_FORMAT))
    save_snapshot(tmp_path, data)
    back = load_snapshot(tmp_path)
    assert back == data and combined_hash(back) == digest
    every_kind = demo_data(n_train=4, n_eval=2, sample_prompts=2)
    save_snapshot(tmp_path / "all", every_kind)
    assert load_snapshot(tmp_path / "all") == every_kind
