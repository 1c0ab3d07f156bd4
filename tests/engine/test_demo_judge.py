"""The shipped demo judge: it loads offline through engine.loading, its judge.json
describes a pairwise A/B judge, and rendered as the judge engine renders it, it
prefers the correct answer to the demo model's off-by-one slip far above chance."""

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from engine.demo import DEMO_JUDGE_DIR, DEMO_MODEL_DIR  # noqa: E402
from engine.demo.task import demo_splits, format_answer  # noqa: E402

# Measured when the judge was built (see judge/README.md): 0.998 both-order accuracy
# against answers one too high, inconsistency 0.053; the thresholds leave room for
# other CPUs' rounding, far above chance (0.5).
MIN_OFF_BY_ONE_ACCURACY = 0.90
MAX_INCONSISTENCY = 0.15


@pytest.fixture(scope="module")
def judge():
    from engine.loading import load_model
    from engine.model_source import ModelSpec

    return load_model(ModelSpec(path=str(DEMO_JUDGE_DIR)), "cpu", "float32")


@pytest.fixture(scope="module")
def config():
    return json.loads((DEMO_JUDGE_DIR / "judge.json").read_text(encoding="utf-8"))


def prob_first(judge, config, items):
    """P(first label) over the two labels' next-token logits, for (prompt, first, second)."""
    tokenizer = judge.tokenizer
    ids = [tokenizer.encode(c, add_special_tokens=False)[0] for c in config["choices"]]
    prompts = []
    for prompt, first, second in items:
        user_text = config["template"].format(
            prompt=prompt, first=first, second=second, criteria=config["criteria"]
        )
        prompts.append(
            tokenizer.apply_chat_template(
                [{"role": "user", "content": user_text}], add_generation_prompt=True, tokenize=False
            )
        )
    batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        logits = judge.model(**batch).logits[:, -1, ids]
    return torch.softmax(logits, dim=-1)[:, 0].tolist()


def test_judge_json_describes_a_pairwise_ab_judge(config):
    assert config["mode"] == "pairwise"
    assert config["choices"] == ["A", "B"]
    assert "{prompt}" in config["template"]
    assert "{first}" in config["template"] and "{second}" in config["template"]


def test_folder_is_small_safetensors_with_the_demo_tokenizer(judge):
    files = {p.name: p for p in DEMO_JUDGE_DIR.iterdir()}
    assert "model.safetensors" in files
    assert not any(n.endswith((".bin", ".pt", ".pth", ".ckpt")) for n in files)
    assert sum(p.stat().st_size for p in files.values()) < 10 * 1024 * 1024
    # The same vocabulary, merges and special tokens; "padding" is a runtime setting the
    # loader sets (left) on every tokenizer.
    ours, demo = (
        json.loads(f.read_text(encoding="utf-8"))
        for f in (files["tokenizer.json"], DEMO_MODEL_DIR / "tokenizer.json")
    )
    assert {k: v for k, v in ours.items() if k != "padding"} == {
        k: v for k, v in demo.items() if k != "padding"
    }
    for choice in ("A", "B"):
        assert len(judge.tokenizer.encode(choice, add_special_tokens=False)) == 1


def test_prefers_correct_over_off_by_one_in_both_orders(judge, config):
    problems = demo_splits()["eval"]
    right = [format_answer(p.answer) for p in problems]
    slip = [format_answer(p.answer + 1) for p in problems]  # the demo model's habit
    shown_first = prob_first(
        judge, config, [(p.question, r, s) for p, r, s in zip(problems, right, slip, strict=True)]
    )
    shown_second = prob_first(
        judge, config, [(p.question, s, r) for p, r, s in zip(problems, right, slip, strict=True)]
    )
    n = len(problems)
    accuracy_a = sum(p > 0.5 for p in shown_first) / n
    accuracy_b = sum(q < 0.5 for q in shown_second) / n
    inconsistency = (
        sum(abs(p - (1 - q)) for p, q in zip(shown_first, shown_second, strict=True)) / n
    )
    assert (accuracy_a + accuracy_b) / 2 >= MIN_OFF_BY_ONE_ACCURACY
    # Far above chance in each order on its own: no strong position bias.
    assert min(accuracy_a, accuracy_b) >= MIN_OFF_BY_ONE_ACCURACY - 0.05
    assert inconsistency <= MAX_INCONSISTENCY
