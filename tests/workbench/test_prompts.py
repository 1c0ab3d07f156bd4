import sqlite3

import pytest

from workbench.data.completions import (
    CompletionRecord,
    add_completions,
    count_completions,
    get_completion,
    list_completions,
)
from workbench.data.prompts import (
    PromptInUseError,
    PromptRecord,
    add_prompts,
    count_prompts,
    delete_prompts,
    get_prompt,
    list_prompts,
    prompt_ids,
    split_counts,
)
from workbench.jobs import queue as jobs
from workbench.project import Project

CHAT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "First question"},
    {"role": "assistant", "content": "First answer"},
    {"role": "user", "content": "Quelle est la capitale? École"},
]


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "p")
    yield p
    p.close()


def _seed(project):
    return add_prompts(
        project,
        [
            PromptRecord(text="What is 2 + 2?", reference="4", tags=["math"], metadata={"n": 1}),
            PromptRecord(text="Name a colour", split="test"),
            PromptRecord(text=None, messages=CHAT, split="test", reference="Paris"),
            PromptRecord(text="Spell USER backwards", split="validation"),
        ],
    )


def test_add_and_get_round_trip(project):
    ids = _seed(project)
    assert len(ids) == 4 and ids == sorted(ids)
    first = get_prompt(project, ids[0])
    assert first.text == "What is 2 + 2?" and first.messages is None
    assert (first.split, first.reference, first.tags, first.metadata) == (
        "train",
        "4",
        ["math"],
        {"n": 1},
    )
    assert first.id == ids[0] and first.display_text == "What is 2 + 2?"
    chat = get_prompt(project, ids[2])
    assert chat.text is None and chat.messages == CHAT
    assert chat.display_text == "Quelle est la capitale? École"  # the last user message
    with pytest.raises(KeyError):
        get_prompt(project, 999)


def test_add_rejects_bad_records_and_writes_nothing(project):
    good = PromptRecord(text="fine")
    for bad in (
        PromptRecord(text="   "),
        PromptRecord(text=None, messages=None),
        PromptRecord(text="both", messages=CHAT),
        PromptRecord(messages=[{"role": "bot", "content": "hi"}]),
        PromptRecord(messages=[{"role": "system", "content": "no user"}]),
        PromptRecord(text="x", split=""),
        PromptRecord(text="x", tags="a;b"),
    ):
        with pytest.raises(ValueError, match="prompt 2 of 2"):
            add_prompts(project, [good, bad])
    assert count_prompts(project) == 0


def test_add_inside_an_outer_transaction_rolls_back_with_it(project):
    with pytest.raises(RuntimeError), project.transaction() as conn:
        add_prompts(project, [PromptRecord(text="a"), PromptRecord(text="b")], conn=conn)
        assert count_prompts(project) == 2
        raise RuntimeError("boom")
    assert count_prompts(project) == 0


def test_list_search_count_and_splits(project):
    ids = _seed(project)
    assert [p.id for p in list_prompts(project)] == ids
    assert [p.id for p in list_prompts(project, split="test")] == [ids[1], ids[2]]
    assert [p.id for p in list_prompts(project, limit=2, offset=1)] == ids[1:3]
    assert len(list_prompts(project, limit=None)) == 4
    # case-insensitive over text, reference and message contents, Unicode included
    assert [p.id for p in list_prompts(project, search="COLOUR")] == [ids[1]]
    assert [p.id for p in list_prompts(project, search="paris")] == [ids[2]]
    assert [p.id for p in list_prompts(project, search="école")] == [ids[2]]
    assert [p.id for p in list_prompts(project, search="ÉCOLE")] == [ids[2]]
    assert [p.id for p in list_prompts(project, search="first answer")] == [ids[2]]
    # the JSON keys and roles of a chat are not searched
    assert [p.id for p in list_prompts(project, search="user")] == [ids[3]]
    assert [p.id for p in list_prompts(project, search="role")] == []
    assert list_prompts(project, search="100%") == []
    assert count_prompts(project) == 4
    assert count_prompts(project, split="test") == 2
    assert count_prompts(project, split="test", search="capitale") == 1
    assert count_prompts(project, search="nothing like this") == 0
    assert split_counts(project) == {"test": 2, "train": 1, "validation": 1}
    assert prompt_ids(project) == ids
    assert prompt_ids(project, split="validation") == [ids[3]]


def test_delete_refuses_prompts_with_completions_or_comparisons(project):
    ids = _seed(project)
    add_completions(project, [CompletionRecord(prompt_id=ids[0], text="4")])
    project.db.execute(
        "INSERT INTO comparisons (prompt_id, completion_ids, outcome, source, created_at) "
        "VALUES (?, '[]', 'tie', 'human', 0)",
        [ids[1]],
    )
    with pytest.raises(PromptInUseError, match=r"1 completions refer to prompt\(s\) 1") as info:
        delete_prompts(project, [ids[0], ids[3]])
    assert "nothing was deleted" in str(info.value)
    with pytest.raises(PromptInUseError, match="comparisons"):
        delete_prompts(project, [ids[1]])
    assert count_prompts(project) == 4
    assert delete_prompts(project, [ids[3], ids[2], 12345]) == 2
    assert prompt_ids(project) == ids[:2]
    assert delete_prompts(project, []) == 0


def test_completions_add_list_count(project):
    ids = _seed(project)
    job = jobs.submit(project, "generate", {})
    new = add_completions(
        project,
        [
            CompletionRecord(
                prompt_id=ids[0],
                text="4",
                job_id=job,
                settings={"t": 0.7},
                seed=1,
                num_tokens=2,
                finish_reason="stop",
            ),
            CompletionRecord(prompt_id=ids[0], text="four", job_id=job, seed=2),
            CompletionRecord(prompt_id=ids[1], text="blue"),
        ],
    )
    assert len(new) == 3
    got = get_completion(project, new[0])
    assert (
        got.prompt_id,
        got.text,
        got.job_id,
        got.settings,
        got.seed,
        got.num_tokens,
        got.finish_reason,
        got.id,
    ) == (ids[0], "4", job, {"t": 0.7}, 1, 2, "stop", new[0])
    assert [c.text for c in list_completions(project, prompt_id=ids[0])] == ["4", "four"]
    assert [c.text for c in list_completions(project, job_id=job, limit=1, offset=1)] == ["four"]
    assert count_completions(project) == 3
    assert count_completions(project, prompt_id=ids[1]) == 1
    assert count_completions(project, job_id=job) == 2
    with pytest.raises(KeyError):
        get_completion(project, 999)


def test_completions_are_all_or_nothing(project):
    ids = _seed(project)
    with pytest.raises(ValueError, match="does not exist"):
        add_completions(
            project,
            [
                CompletionRecord(prompt_id=ids[0], text="ok"),
                CompletionRecord(prompt_id=999, text="x"),
            ],
        )
    assert count_completions(project) == 0
    # the foreign key also protects prompts from a raw delete
    add_completions(project, [CompletionRecord(prompt_id=ids[0], text="ok")])
    with pytest.raises(sqlite3.IntegrityError):
        project.db.execute("DELETE FROM prompts WHERE id = ?", [ids[0]])
