import json

import pytest

from tests.workbench.label_helpers import Tiny, as_tuples
from workbench.data.preference_data import build_dataset, export_dataset, import_preferences
from workbench.data.preference_data.trl_formats import (
    ParsedPair,
    ParsedUnpaired,
    extract_prompt,
    parse_row,
)
from workbench.data.prompt_io import ExportCancelled, ImportCancelled, ImportFailed
from workbench.labels.completion_labels import add_label

SYSTEM = {"role": "system", "content": "Answer with a number."}


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


# What TRL 1.16's trl.data_utils.extract_prompt returns for these (run once, copied here
# so that the test does not import torch through trl).
TRL_SPLITS = [
    (("The sky is blue.", "The sky is green."), ("The sky is", " blue.", " green.")),
    (("The sky is bright", "The sky is blue"), ("The sky is b", "right", "lue")),
    (("abc", "abd"), ("ab", "c", "d")),
    (("Q?\nA: 5", "Q?\nA: 6"), ("Q?\nA:", " 5", " 6")),
    (
        ([user("Hi"), assistant("Hello.")], [user("Hi"), assistant("Go away.")]),
        ([user("Hi")], [assistant("Hello.")], [assistant("Go away.")]),
    ),
]


@pytest.mark.parametrize(("given", "expected"), TRL_SPLITS)
def test_implicit_prompts_split_as_trl_splits_them(given, expected):
    assert extract_prompt(*given) == expected


@pytest.mark.parametrize("given", [("abc", "abc"), ("abc", "abcd"), ("xa", "ya"), (" a", "b a")])
def test_no_implicit_prompt_is_an_error_where_trl_would_guess(given):
    # TRL returns "ab", "ab", "" and "" as the prompt of these
    assert isinstance(extract_prompt(*given), str)


def test_each_format_is_recognised_from_its_fields():
    assert parse_row({"prompt": "p", "chosen": " a", "rejected": " b"}) == ParsedPair(
        "p", " a", " b"
    )
    assert parse_row(
        {"prompt": [user("p")], "chosen": [assistant("a")], "rejected": [assistant("b")]}
    ) == ParsedPair([user("p")], "a", "b")
    assert parse_row({"chosen": "p a", "rejected": "p b"}) == ParsedPair("p", " a", " b")
    assert parse_row(
        {
            "chosen": [SYSTEM, user("p"), assistant("a")],
            "rejected": [SYSTEM, user("p"), assistant("b")],
        }
    ) == ParsedPair([SYSTEM, user("p")], "a", "b")
    assert parse_row({"prompt": "p", "completion": "a", "label": False}) == ParsedUnpaired(
        "p", "a", False
    )
    assert parse_row({"prompt": [user("p")], "completion": [assistant("a")], "label": True}) == (
        ParsedUnpaired([user("p")], "a", True)
    )
    # as TRL's maybe_extract_prompt: a text prompt beside chats is ignored
    assert parse_row(
        {
            "prompt": "ignored",
            "chosen": [user("p"), assistant("a")],
            "rejected": [user("p"), assistant("b")],
        }
    ) == ParsedPair([user("p")], "a", "b")
    # extra fields (scores, ids) and nulls are ignored
    assert parse_row(
        {"prompt": "p", "chosen": "a", "rejected": "b", "score_chosen": 8, "id": None}
    ) == ParsedPair("p", "a", "b")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"prompt": "p", "chosen": "a"}, "'rejected' is missing"),
        ({"prompt": "p", "chosen": "a", "rejected": [assistant("b")]}, "both be text"),
        (
            {
                "prompt": [user("p")],
                "chosen": [assistant("a"), assistant("more")],
                "rejected": [assistant("b")],
            },
            "'chosen' must be one assistant message, not 2 message",
        ),
        ({"prompt": [user("p")], "chosen": [user("a")], "rejected": [assistant("b")]}, "(user)"),
        ({"prompt": "  ", "chosen": "a", "rejected": "b"}, "'prompt' is empty"),
        (
            {"prompt": [SYSTEM], "chosen": [assistant("a")], "rejected": [assistant("b")]},
            "no user message",
        ),
        ({"chosen": "same", "rejected": "same"}, "cannot be told apart"),
        ({"prompt": "p", "completion": "a", "label": 1}, "'label' must be true or false"),
        ({"prompt": "p", "completion": "a"}, "'label' is missing"),
        ({"question": "p", "answer": "a"}, "expected 'chosen' and 'rejected'"),
        ({"prompt": "p", "chosen": 5, "rejected": "b"}, "'chosen' must be text"),
    ],
)
def test_bad_records_say_why(raw, message):
    problem = parse_row(raw)
    assert isinstance(problem, str) and message in problem


def text_project(path):
    """Labels of every kind on text prompts; completions differ from their first word
    on, so that the implicit formats can find the prompt again."""
    tiny = Tiny(path)
    p = tiny.prompt("Q: What is 2 + 2?\nA:")
    four, five, fourish = tiny.completions(p, " 4", " 5", " four")
    tiny.compare(p, [four, five, fourish], "ranking", ranking=[four, fourish, five])
    q = tiny.prompt("Name a colour of the sky.")
    tiny.pair(q, " Blue, on a clear day.", " Green.", source="ai", confidence=0.9)
    bad = tiny.completions(q, " Loud.", " Seven.")
    tiny.compare(q, bad, "both_bad")
    add_label(tiny.project, tiny.completions(q, " Grey, when it rains.")[0], True, "human")
    return tiny


def chat_project(path):
    tiny = Tiny(path)
    p = tiny.prompt(messages=[SYSTEM, user("What is 2 + 2?")])
    tiny.pair(p, "4", "5")
    tiny.pair(p, "Four.", "22")
    q = tiny.prompt(messages=[user("And 3 + 3?")])
    tiny.pair(q, "6", "9", source="rule")
    add_label(tiny.project, tiny.completions(q, "Six.")[0], True, "human")
    return tiny


ROUND_TRIPS = [
    ("standard", text_project),
    ("standard-implicit", text_project),
    ("unpaired", text_project),
    ("conversational", chat_project),
    ("conversational-implicit", chat_project),
    ("unpaired-conversational", chat_project),
]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
@pytest.mark.parametrize(("fmt", "make"), ROUND_TRIPS)
def test_export_then_import_into_a_fresh_project_gives_the_same_examples(
    tmp_path, fmt, make, suffix
):
    source = make(tmp_path / "source")
    dataset = build_dataset(source.project)
    path = tmp_path / f"data{suffix}"
    written_fmt, count = export_dataset(dataset, path, fmt)
    fresh = Tiny(tmp_path / "fresh")
    report = import_preferences(fresh.project, path)
    again = build_dataset(fresh.project)
    pairs, unpaired = as_tuples(dataset)
    pairs_again, unpaired_again = as_tuples(again)
    if fmt.startswith("unpaired"):
        assert count == len(unpaired) == report.unpaired and report.pairs == 0
        assert unpaired_again == unpaired
    else:
        assert count == len(pairs) == report.pairs and report.unpaired == 0
        assert pairs_again == pairs
    assert written_fmt == fmt
    assert report.prompts_created == dataset.counts["prompts"]


def test_the_default_format_follows_the_prompts(tmp_path):
    text = build_dataset(text_project(tmp_path / "t").project)
    assert export_dataset(text, tmp_path / "t.jsonl")[0] == "standard"
    chats = build_dataset(chat_project(tmp_path / "c").project)
    assert export_dataset(chats, tmp_path / "c.jsonl")[0] == "conversational"
    first = json.loads((tmp_path / "c.jsonl").read_text().splitlines()[0])
    assert first == {
        "prompt": [SYSTEM, user("What is 2 + 2?")],
        "chosen": [assistant("4")],
        "rejected": [assistant("5")],
    }
    # a text prompt in a conversational format is one user message
    export_dataset(text, tmp_path / "tc.jsonl", "conversational")
    first = json.loads((tmp_path / "tc.jsonl").read_text().splitlines()[0])
    assert first["prompt"] == [user("Q: What is 2 + 2?\nA:")]


def test_a_chat_cannot_be_exported_as_text_and_the_target_is_untouched(tmp_path):
    chats = build_dataset(chat_project(tmp_path / "c").project)
    target = tmp_path / "out.jsonl"
    target.write_text("before\n")
    with pytest.raises(ValueError, match="conversational format"):
        export_dataset(chats, target, "standard")
    assert target.read_text() == "before\n"
    with pytest.raises(ValueError, match="unknown format"):
        export_dataset(chats, target, "sharegpt")
    with pytest.raises(ValueError, match=".jsonl or .parquet"):
        export_dataset(chats, tmp_path / "out.csv")


def test_a_cancelled_export_leaves_the_old_file_and_no_temporary_one(tmp_path):
    dataset = build_dataset(text_project(tmp_path / "t").project)
    target = tmp_path / "out" / "pairs.jsonl"
    target.parent.mkdir()
    target.write_text("before\n")
    with pytest.raises(ExportCancelled):
        export_dataset(dataset, target, cancelled=lambda: True)
    assert target.read_text() == "before\n"
    assert [p.name for p in target.parent.iterdir()] == ["pairs.jsonl"]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_import_stores_prompts_completions_and_comparisons(tmp_path):
    tiny = Tiny(tmp_path / "p")
    existing = tiny.prompt("Known question", split="eval")
    path = write_jsonl(
        tmp_path / "prefs.jsonl",
        [
            {"prompt": "Known question", "chosen": "A", "rejected": "B"},
            {"prompt": "Known question", "chosen": "A", "rejected": "C"},
            {"prompt": "New question", "chosen": "yes", "rejected": "no"},
            {"prompt": "New question", "chosen": "same", "rejected": "same"},
            {"prompt": "New question", "completion": "maybe", "label": False},
        ],
    )
    report = import_preferences(tiny.project, path, source="ai", split="train")
    assert (
        report.pairs,
        report.unpaired,
        report.prompts_created,
        report.prompts_reused,
        report.completions,
        report.skipped_identical,
    ) == (3, 1, 1, 1, 6, 1)
    assert "1 pair(s) with the same text" in report.warnings[0]
    db = tiny.project.db
    assert db.execute("SELECT split FROM prompts WHERE text = 'New question'").fetchone() == (
        "train",
    )
    rows = db.execute(
        "SELECT prompt_id, completion_ids, outcome, source, judge FROM comparisons ORDER BY id"
    ).fetchall()
    assert {r[2:] for r in rows} == {("a", "ai", "import: prefs.jsonl")}
    texts = dict(db.execute("SELECT id, text FROM completions").fetchall())
    assert [(r[0], [texts[i] for i in json.loads(r[1])]) for r in rows[:2]] == [
        (existing, ["A", "B"]),
        (existing, ["A", "C"]),
    ]
    assert json.loads(rows[0][1])[0] == json.loads(rows[1][1])[0]  # one row for "A"
    assert db.execute("SELECT DISTINCT model_id, settings FROM completions").fetchall() == [
        (None, '{"imported_from": "prefs.jsonl"}')
    ]
    assert db.execute("SELECT desirable, source, judge FROM completion_labels").fetchall() == [
        (0, "ai", "import: prefs.jsonl")
    ]


def test_importing_an_export_into_its_own_project_adds_nothing_new_to_train_on(tmp_path):
    tiny = text_project(tmp_path / "p")
    before = build_dataset(tiny.project)
    export_dataset(before, tmp_path / "pairs.jsonl")
    report = import_preferences(tiny.project, tmp_path / "pairs.jsonl")
    assert report.prompts_created == 0 and report.prompts_reused == 2
    after = build_dataset(tiny.project)
    assert as_tuples(after)[0] == as_tuples(before)[0]
    assert after.counts["duplicates"] == len(before.pairs)


def test_a_file_with_bad_lines_imports_nothing_and_names_each_line(tmp_path):
    tiny = Tiny(tmp_path / "p")
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"prompt": "fine", "chosen": "a", "rejected": "b"}),
                json.dumps({"prompt": "fine", "chosen": "a"}),
                "",
                "not json",
                json.dumps({"prompt": "fine", "completion": "a", "label": "yes"}),
                json.dumps({"prompt": "fine", "chosen": "c", "rejected": "d"}),
            ]
        )
        + "\n"
    )
    with pytest.raises(ImportFailed) as failed:
        import_preferences(tiny.project, path)
    assert [e.line for e in failed.value.errors] == [2, 4, 5]
    assert failed.value.errors[0].message.startswith("line 2: ")
    assert "Nothing was imported from bad.jsonl: 3 bad records" in str(failed.value)
    assert [tiny.count(t) for t in ("prompts", "completions", "comparisons")] == [0, 0, 0]


def test_unreadable_files_and_bad_arguments(tmp_path):
    tiny = Tiny(tmp_path / "p")
    with pytest.raises(ImportFailed, match="holds no records"):
        import_preferences(tiny.project, write_jsonl(tmp_path / "empty.jsonl", []))
    with pytest.raises(ImportFailed, match="file not found"):
        import_preferences(tiny.project, tmp_path / "missing.jsonl")
    with pytest.raises(ImportFailed, match=".jsonl or .parquet"):
        import_preferences(tiny.project, tmp_path / "pairs.csv")
    ok = write_jsonl(tmp_path / "ok.jsonl", [{"prompt": "p", "chosen": "a", "rejected": "b"}])
    with pytest.raises(ValueError, match="source"):
        import_preferences(tiny.project, ok, source="import")


def test_a_cancelled_import_writes_nothing(tmp_path):
    tiny = Tiny(tmp_path / "p")
    rows = [{"prompt": f"p{i}", "chosen": "a", "rejected": "b"} for i in range(300)]
    path = write_jsonl(tmp_path / "many.jsonl", rows)
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 60  # during the writing, past the reading

    seen = []
    with pytest.raises(ImportCancelled):
        import_preferences(
            tiny.project, path, cancelled=cancelled, progress=lambda done, total: seen.append(done)
        )
    assert max(seen) > 150  # it was writing when cancelled
    assert [tiny.count(t) for t in ("prompts", "completions", "comparisons")] == [0, 0, 0]
    report = import_preferences(tiny.project, path, progress=lambda d, t: seen.append((d, t)))
    assert report.pairs == 300 and seen[-1] == (300, 300)
