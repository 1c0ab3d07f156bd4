import json
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.data.prompt_io import (
    ExportCancelled,
    ImportCancelled,
    ImportFailed,
    LineError,
    export_prompts,
    exporter,
    import_prompts,
)
from workbench.data.prompts import PromptRecord, add_prompts, count_prompts, list_prompts
from workbench.project import Project

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is 6 * 7?"},
]


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "p")
    yield p
    p.close()


def write_jsonl(path, lines):
    """Each item is a dict (dumped) or a raw string (written as is)."""
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


def fields(record):
    return (
        record.text,
        record.messages,
        record.split,
        record.reference,
        record.tags,
        record.metadata,
    )


# --- each format imports -------------------------------------------------------------------


def test_jsonl_imports_text_chat_references_splits_tags_metadata(project, tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"prompt": "What is 2+2?", "answer": 4, "tags": ["math", "easy"], "level": 1},
            "",
            {"text": "Name a prime", "solution": "7", "split": "test", "extra": {"a": [1]}},
            {"question": "Capital of France?", "ground_truth": "Paris", "split": "validation"},
            {"messages": CHAT, "reference": "42", "source_id": "q9"},
            {"prompt": CHAT, "split": "test"},  # TRL's conversational prompt
            {"prompt": "main", "question": "kept as metadata", "reference": 2.5, "answer": "x"},
        ],
    )
    report = import_prompts(project, path)
    assert report.imported == 6
    assert report.by_split == {"train": 3, "test": 2, "validation": 1}
    assert report.warnings == [
        "1 prompt of the file repeats an earlier one (line 6 repeats line 5); imported anyway."
    ]
    got = list_prompts(project)
    assert [fields(r) for r in got] == [
        ("What is 2+2?", None, "train", "4", ["math", "easy"], {"level": 1}),
        ("Name a prime", None, "test", "7", [], {"extra": {"a": [1]}}),
        ("Capital of France?", None, "validation", "Paris", [], {}),
        (None, CHAT, "train", "42", [], {"source_id": "q9"}),
        (None, CHAT, "test", None, [], {}),
        ("main", None, "train", "2.5", [], {"question": "kept as metadata", "answer": "x"}),
    ]
    assert all(r.source == str(path.resolve()) for r in got)


def test_default_split_and_json_suffix_and_bom(project, tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"prompt": "hi"}).encode() + b"\r\n")
    report = import_prompts(project, path, default_split="eval")
    assert report.by_split == {"eval": 1}
    assert list_prompts(project)[0].text == "hi"


def test_csv_imports_text_chat_tags_and_metadata(project, tmp_path):
    path = tmp_path / "p.csv"
    chat_cell = json.dumps(CHAT).replace('"', '""')
    path.write_bytes(
        (
            "\ufeffprompt,answer,split,tags,difficulty,messages\r\n"
            "What is 2+2?,4,train,math; easy ,3,\r\n"
            '"Say ""hi"",\nthen stop",,test,,,\r\n'
            f',7,test,chat,,"{chat_cell}"\r\n'
            f'"{chat_cell}",,,"[""a;b"", ""c""]",,\r\n'
            '"[1, 2]",,,,,,,\r\n'
        ).encode()
    )
    report = import_prompts(project, path)
    assert report.imported == 5 and report.by_split == {"train": 3, "test": 2}
    assert [fields(r) for r in list_prompts(project)] == [
        ("What is 2+2?", None, "train", "4", ["math", "easy"], {"difficulty": "3"}),
        ('Say "hi",\nthen stop', None, "test", None, [], {}),
        (None, CHAT, "test", "7", ["chat"], {}),
        (None, CHAT, "train", None, ["a;b", "c"], {}),
        ("[1, 2]", None, "train", None, [], {}),  # a JSON list, but not of messages
    ]


def test_csv_unnamed_columns_and_short_rows(project, tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text("prompt,answer,,\nhi,,,note\nshort\n", encoding="utf-8")
    import_prompts(project, path)
    assert [fields(r) for r in list_prompts(project)] == [
        ("hi", None, "train", None, [], {"column4": "note"}),
        ("short", None, "train", None, [], {}),
    ]


def test_parquet_imports_text_chat_and_types(project, tmp_path):
    table = pa.table(
        {
            "prompt": pa.array(["What is 2+2?", None, "Third"]),
            "messages": pa.array([None, CHAT, None]),
            "answer": pa.array([4, 42, None], type=pa.int64()),
            "split": pa.array(["train", "test", None]),
            "tags": pa.array([["math"], [], None]),
            "score": pa.array([0.5, None, 1.5]),
            "__index_level_0__": pa.array([0, 1, 2]),
        }
    )
    pq.write_table(table, tmp_path / "p.parquet")
    report = import_prompts(project, tmp_path / "p.parquet", default_split="dev")
    assert report.imported == 3 and report.by_split == {"train": 1, "test": 1, "dev": 1}
    assert [fields(r) for r in list_prompts(project)] == [
        ("What is 2+2?", None, "train", "4", ["math"], {"score": 0.5}),
        (None, CHAT, "test", "42", [], {}),
        ("Third", None, "dev", None, [], {"score": 1.5}),
    ]


def test_parquet_trl_conversational_prompt_column(project, tmp_path):
    pq.write_table(
        pa.table({"prompt": [CHAT, CHAT[1:]], "solution": ["42", "42"]}), tmp_path / "trl.parquet"
    )
    import_prompts(project, tmp_path / "trl.parquet")
    assert [r.messages for r in list_prompts(project)] == [CHAT, CHAT[1:]]


# --- TRL's SFT formats: the answer is the reference SFT imitates -------------------------------

ANSWERED = [*CHAT, {"role": "assistant", "content": "42"}]
MULTI_TURN = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "What is 6 * 7?"},
    {"role": "assistant", "content": "42"},
]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_trl_sft_formats_give_their_answer_as_the_reference(project, tmp_path, suffix):
    rows = [
        {"messages": ANSWERED},  # conversational language modeling
        {"messages": MULTI_TURN},  # the last assistant turn is the answer, the rest the prompt
        {"messages": ANSWERED, "reference": "6*7"},  # a reference field wins; the answer is kept
        {"messages": CHAT},  # a chat that waits for its answer is a prompt as before
    ]
    path = tmp_path / f"chat{suffix}"
    if suffix == ".jsonl":
        write_jsonl(path, rows)
    else:
        columns = {key: [row.get(key) for row in rows] for key in ("messages", "reference")}
        pq.write_table(pa.table(columns), path)
    assert import_prompts(project, path).imported == 4
    assert [fields(r) for r in list_prompts(project)] == [
        (None, CHAT, "train", "42", [], {}),
        (None, MULTI_TURN[:3], "train", "42", [], {}),
        (None, CHAT, "train", "6*7", [], {"completion": "42"}),
        (None, CHAT, "train", None, [], {}),
    ]


def test_trl_prompt_completion_gives_its_completion_as_the_reference(project, tmp_path):
    path = write_jsonl(
        tmp_path / "pc.jsonl",
        [
            {"prompt": "What is 2+2?", "completion": "4"},
            {"prompt": CHAT, "completion": [{"role": "assistant", "content": "42"}]},
            {"prompt": "Say hi", "completion": "hi", "answer": "hello"},  # the answer field wins
            {"prompt": "Blank", "completion": ""},
        ],
    )
    assert import_prompts(project, path).imported == 4
    assert [fields(r) for r in list_prompts(project)] == [
        ("What is 2+2?", None, "train", "4", [], {}),
        (None, CHAT, "train", "42", [], {}),
        ("Say hi", None, "train", "hello", [], {"completion": "hi"}),
        ("Blank", None, "train", None, [], {}),
    ]


def test_bad_trl_completions_are_reported(project, tmp_path):
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        [
            {"prompt": "a", "completion": 4},
            {"prompt": "b", "completion": [{"role": "user", "content": "x"}]},
            {"prompt": "c", "completion": [{"role": "assistant", "content": "x"}] * 2},
            {"prompt": "d", "completion": 4, "reference": "fine"},  # not read: metadata
        ],
    )
    with pytest.raises(ImportFailed) as info:
        import_prompts(project, path)
    assert [e.line for e in info.value.errors] == [1, 2, 3]
    for error in info.value.errors:
        assert "'completion' must be a string or a list of one assistant message" in error.message
    assert count_prompts(project) == 0


def test_an_imported_chat_dataset_round_trips_with_its_answers(tmp_path):
    src = Project.create(tmp_path / "src")
    write_jsonl(tmp_path / "in.jsonl", [{"messages": ANSWERED}, {"messages": ANSWERED[1:]}])
    import_prompts(src, tmp_path / "in.jsonl")
    export_prompts(src, tmp_path / "out.jsonl")
    dst = Project.create(tmp_path / "dst")
    import_prompts(dst, tmp_path / "out.jsonl")
    assert [fields(r) for r in list_prompts(dst)] == [fields(r) for r in list_prompts(src)]
    assert [r.reference for r in list_prompts(dst)] == ["42", "42"]
    src.close()
    dst.close()


# --- bad records: all reported, nothing written ---------------------------------------------


def test_jsonl_bad_lines_are_all_reported_and_nothing_is_written(project, tmp_path):
    add_prompts(project, [PromptRecord(text="already here")])
    lines = [
        {"prompt": "good"},  # 1
        '{"prompt": "unterminated',  # 2 bad JSON
        "",  # 3 blank, counted
        {"prompt": "   "},  # 4 whitespace-only
        {"prompt": 17},  # 5 wrong type
        {"prompt": "good again"},  # 6
        {"messages": [{"role": "bot", "content": "hi"}]},  # 7 bad role
        '["not", "an", "object"]',  # 8
        {"reference": "no prompt here"},  # 9
        {"messages": [{"role": "system", "content": "only system"}]},  # 10 no user
        {"prompt": "x", "split": 3},  # 11
        {"prompt": "x", "tags": "a;b"},  # 12
        {"messages": [{"role": "user", "content": ""}]},  # 13 empty content
        {"messages": "hello"},  # 14
        {"prompt": "x", "answer": [1, 2]},  # 15
        {"messages": [{"role": "user", "content": 5}]},  # 16
        {"messages": ["hi"]},  # 17
        {"prompt": "x", "tags": ["ok", 3]},  # 18
        {"text": None},  # 19
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    with pytest.raises(ImportFailed) as info:
        import_prompts(project, path)
    errors = info.value.errors
    assert [e.line for e in errors] == [2, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    by_line = {e.line: e.message for e in errors}
    assert by_line[2].startswith("line 2: invalid JSON: Unterminated string")
    assert "empty" in by_line[4]
    assert "'prompt' must be a string or a list of messages, not a number" in by_line[5]
    assert "role 'bot' is not one of system, user, assistant" in by_line[7]
    assert "expected a JSON object, found a list" in by_line[8]
    assert "no prompt" in by_line[9]
    assert "no user message" in by_line[10]
    assert "'split' must be a string" in by_line[11]
    assert "'tags' must be a list of strings, not a string" in by_line[12]
    assert "messages[0]: 'content' is empty" in by_line[13]
    assert "'messages' must be a list" in by_line[14]
    assert "'answer' must be a string or a number" in by_line[15]
    assert "'content' must be a string, not a number" in by_line[16]
    assert "messages[0] must be an object" in by_line[17]
    assert "item 2 is a number" in by_line[18]
    assert "empty" in by_line[19]
    text = str(info.value)
    assert "16 bad records" in text and "nothing was imported" in text.lower()
    assert "line 2:" in text and "line 19:" in text
    assert count_prompts(project) == 1


def test_failure_summary_shows_first_twenty_and_a_count(tmp_path):
    errors = [LineError(n, f"line {n}: bad") for n in range(1, 31)]
    text = str(ImportFailed(errors, tmp_path / "f.jsonl"))
    assert "30 bad records" in text and "line 20: bad" in text
    assert "line 21: bad" not in text and "and 10 more" in text


def test_csv_line_numbers_count_multi_line_cells(project, tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text(
        "prompt,reference,split\n"  # 1
        '"a prompt that\nspans\nthree lines",1,train\n'  # 2-4
        "\n"  # 5 blank
        "fine,2,train\n"  # 6
        '"  ",3,train\n'  # 7 blank prompt
        '"another\nlong one",4,\n'  # 8-9
        ",5,train\n"  # 10 empty prompt cell
        "x,6,train,extra\n"  # 11 too many cells
        'y,7,"te\nst"\n',  # 12-13 fine, split with a newline
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as info:
        import_prompts(project, path)
    assert [e.line for e in info.value.errors] == [7, 10, 11]
    assert info.value.errors[0].message.startswith("line 7: the prompt is empty")
    assert "header names 3 columns" in info.value.errors[2].message
    assert count_prompts(project) == 0


def test_csv_bad_chat_cells(project, tmp_path):
    path = tmp_path / "chat.csv"
    path.write_text(
        "messages,tags\n"
        '"[{""role"": ""user"", ""content"": ""ok""}]",a\n'  # 2 good
        '"not json",a\n'  # 3
        '"[{""role"": ""robot"", ""content"": ""x""}]",a\n'  # 4
        '"[{""role"": ""user"", ""content"": ""ok""}]","[1]"\n',  # 5 tags JSON with a number
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as info:
        import_prompts(project, path)
    assert [e.line for e in info.value.errors] == [3, 4, 5]


def test_parquet_bad_rows_are_reported_by_row(project, tmp_path):
    table = pa.table(
        {"prompt": ["one", "two", "   ", "four", None], "split": ["a", "b", "c", "", "e"]}
    )
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(ImportFailed) as info:
        import_prompts(project, tmp_path / "bad.parquet")
    assert [e.line for e in info.value.errors] == [3, 4, 5]
    assert info.value.errors[0].message.startswith("row 3: ")
    assert "'split' is blank" in info.value.errors[1].message
    assert "row 5:" in str(info.value)
    assert count_prompts(project) == 0


# --- unreadable files ------------------------------------------------------------------------


def _fails_whole(project, path, fragment, **kwargs):
    with pytest.raises(ImportFailed) as info:
        import_prompts(project, path, **kwargs)
    assert [e.line for e in info.value.errors] == [0]
    assert fragment in info.value.errors[0].message
    assert fragment in str(info.value)
    assert count_prompts(project) == 0


def test_unreadable_missing_and_empty_files(project, tmp_path):
    _fails_whole(project, tmp_path / "missing.jsonl", "file not found")
    (tmp_path / "folder.csv").mkdir()
    _fails_whole(project, tmp_path / "folder.csv", "is a folder")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"prompt": "ok"}\n{"prompt": "caf\xe9"}\n')
    _fails_whole(project, tmp_path / "latin1.jsonl", "not UTF-8 text (byte 0xe9 on line 2)")
    (tmp_path / "latin1.csv").write_bytes(b"prompt\ncaf\xe9\n")
    _fails_whole(project, tmp_path / "latin1.csv", "not UTF-8")
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 this is not parquet at all")
    _fails_whole(project, tmp_path / "corrupt.parquet", "not a readable Parquet file")
    (tmp_path / "empty.jsonl").write_text("")
    _fails_whole(project, tmp_path / "empty.jsonl", "holds no prompts")
    (tmp_path / "blank.jsonl").write_text("\n  \n\n")
    _fails_whole(project, tmp_path / "blank.jsonl", "holds no prompts")
    (tmp_path / "empty.csv").write_text("")
    _fails_whole(project, tmp_path / "empty.csv", "holds no prompts")
    (tmp_path / "header.csv").write_text("prompt,answer\n")
    _fails_whole(project, tmp_path / "header.csv", "holds no prompts")
    pq.write_table(pa.table({"prompt": pa.array([], type=pa.string())}), tmp_path / "none.parquet")
    _fails_whole(project, tmp_path / "none.parquet", "holds no prompts")
    (tmp_path / "prompts.txt").write_text("hello\n")
    _fails_whole(project, tmp_path / "prompts.txt", ".jsonl, .json, .csv, .parquet")
    (tmp_path / "dup.csv").write_text("prompt,a,a\nx,1,2\n")
    with pytest.raises(ImportFailed, match="names column 'a' twice"):
        import_prompts(project, tmp_path / "dup.csv")


def test_explicit_format_overrides_the_suffix(project, tmp_path):
    path = write_jsonl(tmp_path / "prompts.txt", [{"prompt": "hi"}])
    assert import_prompts(project, path, fmt="jsonl").imported == 1


# --- cancellation ----------------------------------------------------------------------------


def test_cancel_during_validation_writes_nothing(project, tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"p{i}"} for i in range(1000)])
    checks = []

    def cancelled():
        checks.append(1)
        return len(checks) >= 5

    with pytest.raises(ImportCancelled):
        import_prompts(project, path, cancelled=cancelled)
    assert count_prompts(project) == 0


def test_cancel_during_insert_rolls_back(project, tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"p{i}"} for i in range(5000)])
    seen = []
    with pytest.raises(ImportCancelled):
        import_prompts(
            project,
            path,
            progress=lambda done, total: seen.append(done),
            cancelled=lambda: bool(seen) and seen[-1] >= 3500,  # well into the insert
        )
    assert max(seen) >= 3500
    assert count_prompts(project) == 0
    # a later import still works: the transaction was rolled back, not left open
    assert import_prompts(project, path).imported == 5000


def test_cancel_before_start(project, tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "x"}])
    with pytest.raises(ImportCancelled):
        import_prompts(project, path, cancelled=lambda: True)
    assert count_prompts(project) == 0


# --- duplicates ------------------------------------------------------------------------------


def test_duplicates_are_imported_with_warnings(project, tmp_path):
    add_prompts(project, [PromptRecord(text="old"), PromptRecord(messages=CHAT)])
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"prompt": "old"},
            {"prompt": "new"},
            {"prompt": "new", "split": "test"},
            {"messages": [dict(reversed(list(m.items()))) for m in CHAT]},  # same chat
        ],
    )
    report = import_prompts(project, path)
    assert report.imported == 4
    assert len(report.warnings) == 2
    assert (
        "1 prompt of the file repeats an earlier one (line 3 repeats line 2)" in report.warnings[0]
    )
    assert "2 prompts already in the project (lines 1, 4)" in report.warnings[1]
    assert count_prompts(project) == 6


# --- export and round trip -------------------------------------------------------------------

ROUND_TRIP = [
    PromptRecord(
        text='Plain, with "quotes", commas;\nand a newline ✓',
        reference="4",
        tags=["math", "a;b", " spaced "],
        metadata={"source": "gsm8k", "id": "7"},
    ),
    PromptRecord(messages=CHAT, split="test", reference="42", tags=["chat"]),
    PromptRecord(text="no extras", split="validation"),
    PromptRecord(text="[1, 2] is a list", metadata={"source": "mine"}),
]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_export_import_round_trip(tmp_path, suffix):
    src = Project.create(tmp_path / "src")
    add_prompts(src, ROUND_TRIP)
    # an import leaves lower-priority aliases in metadata; they must stay metadata
    add_prompts(
        src, [PromptRecord(text="q", reference="r", metadata={"question": "alt", "answer": "a"})]
    )
    out = tmp_path / f"out{suffix}"
    assert export_prompts(src, out) == 5
    dst = Project.create(tmp_path / "dst")
    report = import_prompts(dst, out)
    assert report.imported == 5 and report.warnings == []
    assert [fields(r) for r in list_prompts(dst)] == [fields(r) for r in list_prompts(src)]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    src.close()
    dst.close()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_chat_only_round_trip(tmp_path, suffix):
    src = Project.create(tmp_path / "src")
    add_prompts(
        src,
        [
            PromptRecord(messages=CHAT, reference="42", tags=["x"]),
            PromptRecord(
                messages=CHAT[1:], split="test", metadata={"prompt": "an alias", "k": "v"}
            ),
        ],
    )
    export_prompts(src, tmp_path / f"out{suffix}")
    dst = Project.create(tmp_path / "dst")
    import_prompts(dst, tmp_path / f"out{suffix}")
    assert [fields(r) for r in list_prompts(dst)] == [fields(r) for r in list_prompts(src)]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_round_trip_keeps_metadata_types(tmp_path, suffix):
    src = Project.create(tmp_path / "src")
    records = [
        PromptRecord(text="a", metadata={"n": 1, "x": 1.5, "ok": True, "nested": {"k": [1, "2"]}}),
        PromptRecord(text="b", metadata={"n": 2.0, "mixed": "s", "nested": {"other": None}}),
        PromptRecord(text="c", metadata={"mixed": 3, "ok": False, "big": 2**70}),
    ]
    add_prompts(src, records)
    export_prompts(src, tmp_path / f"out{suffix}")
    dst = Project.create(tmp_path / "dst")
    import_prompts(dst, tmp_path / f"out{suffix}")
    got = [r.metadata for r in list_prompts(dst)]
    want = [r.metadata for r in records]
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)  # types too


def test_csv_round_trip_turns_typed_metadata_into_text(tmp_path):
    src = Project.create(tmp_path / "src")
    add_prompts(src, [PromptRecord(text="a", metadata={"n": 1, "l": [1, 2]})])
    export_prompts(src, tmp_path / "out.csv")
    dst = Project.create(tmp_path / "dst")
    import_prompts(dst, tmp_path / "out.csv")
    assert list_prompts(dst)[0].metadata == {"n": "1", "l": "[1, 2]"}


def test_export_one_split_and_replace_atomically(project, tmp_path, monkeypatch):
    add_prompts(project, ROUND_TRIP)
    out = tmp_path / "out.jsonl"
    assert export_prompts(project, out, split="test") == 1
    assert [json.loads(line)["split"] for line in out.read_text().splitlines()] == ["test"]
    before = out.read_bytes()

    def broken(path, rows, ticker):
        path.write_text("partial")
        raise OSError("disk full")

    monkeypatch.setattr(exporter, "_write_jsonl", broken)
    with pytest.raises(OSError, match="disk full"):
        export_prompts(project, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "p"]
    with pytest.raises(ValueError, match=".jsonl, .json, .csv, .parquet"):
        export_prompts(project, tmp_path / "out.xlsx")


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_export_progress_and_cancel(project, tmp_path, suffix):
    add_prompts(project, [PromptRecord(text=f"p{i}", metadata={"i": i}) for i in range(3000)])
    out = tmp_path / f"out{suffix}"
    calls = []
    assert export_prompts(project, out, progress=lambda d, t: calls.append((d, t))) == 3000
    assert 1 <= len(calls) <= 110 and calls[-1] == (3000, 3000)
    before = out.read_bytes()
    later = []
    with pytest.raises(ExportCancelled):  # cancelled part way through the writing
        export_prompts(
            project,
            out,
            split="train",
            cancelled=lambda: len(later) >= 2,
            progress=lambda d, t: later.append(d),
        )
    assert len(later) == 2 and 0 < later[-1] < 3000
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name, "p"]


def test_export_is_readable_by_other_tools(project, tmp_path):
    add_prompts(project, ROUND_TRIP)
    export_prompts(project, tmp_path / "out.parquet")
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names[:5] == ["prompt", "messages", "split", "reference", "tags"]
    assert pa.types.is_list(table.schema.field("messages").type)  # TRL conversational
    assert table.column("prompt").to_pylist()[0] == ROUND_TRIP[0].text
    # chats only: TRL's conversational prompt-only format, `prompt` a list of messages
    export_prompts(project, tmp_path / "chats.parquet", split="test")
    export_prompts(project, tmp_path / "chats.jsonl", split="test")
    table = pq.read_table(tmp_path / "chats.parquet")
    assert "messages" not in table.column_names
    assert table.column("prompt").to_pylist() == [CHAT]
    assert json.loads((tmp_path / "chats.jsonl").read_text())["prompt"] == CHAT


# --- scale -----------------------------------------------------------------------------------


def test_big_import_is_quick_and_reports_progress_sparingly(project, tmp_path):
    n = 20_000
    lines = []
    for i in range(n):
        if i % 4 == 0:
            lines.append(
                {"messages": CHAT[:1] + [{"role": "user", "content": f"q{i}"}], "answer": i}
            )
        else:
            lines.append(
                {"prompt": f"What is {i} + 1?", "answer": str(i + 1), "tags": ["m"], "k": i}
            )
    path = write_jsonl(tmp_path / "big.jsonl", lines)
    calls = []
    start = time.perf_counter()
    report = import_prompts(project, path, progress=lambda done, total: calls.append((done, total)))
    elapsed = time.perf_counter() - start
    assert report.imported == n and count_prompts(project) == n
    assert elapsed < 20, elapsed  # about 0.5 s on a laptop; generous for shared CI cores
    assert 10 <= len(calls) <= 110
    assert all(total == n for _, total in calls)
    dones = [done for done, _ in calls]
    assert dones == sorted(dones) and dones[-1] == n


def test_importing_prompt_io_pulls_in_no_heavy_modules():
    # sqlite-utils imports pandas (and so pyarrow) whenever pandas is installed, as it
    # is where the test extra's TRL brings it; blocking pandas checks our own imports.
    code = (
        "import sys\n"
        "sys.modules['pandas'] = None\n"
        "import workbench.data.prompt_io, workbench.data.prompts, workbench.data.completions\n"
        "bad = {'torch', 'transformers', 'peft', 'PySide6', 'pyarrow'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
