import json

import pytest

from engine.errors import EngineError
from engine.judge.base import STOPPED, PairItem, PointItem
from engine.judge.local import LocalJudge, build_local_judge, load_judge_config
from engine.judge.reward import pair_preference, pointwise_reward
from engine.judge.templates import DEFAULT_CRITERIA, DEFAULT_PAIR_TEMPLATE
from tests.engine.judge.conftest import FAKE_POINT_TEMPLATE, FAKE_TEMPLATE, sigmoid

LETTERS = ("a", "b")  # the tiny character tokenizer has no capital letters


def fake_judge(loaded, **kwargs):
    return LocalJudge(
        loaded,
        template=FAKE_TEMPLATE,
        point_template=FAKE_POINT_TEMPLATE,
        choices=LETTERS,
        **kwargs,
    )


def test_both_orders_are_averaged_so_position_bias_cancels(fake_loaded):
    bias, scale = 1.5, 0.7  # the fake judge leans to whatever it reads first as "a"
    judge = fake_judge(fake_loaded(bias, scale))
    better, worse = "zz top", "top"
    [verdict] = judge.compare([PairItem("what is best?", better, worse)])
    shown_first, shown_second = sigmoid(bias + 2 * scale), 1 - sigmoid(bias - 2 * scale)
    assert verdict.ok
    assert verdict.detail["first_shown_first"] == pytest.approx(shown_first, abs=1e-6)
    assert verdict.detail["second_shown_first"] == pytest.approx(shown_second, abs=1e-6)
    assert verdict.prob_first == pytest.approx((shown_first + shown_second) / 2, abs=1e-6)
    # Equal answers: the bias alone says "a" at 0.82, the average says exactly 0.5.
    [tie] = judge.compare([PairItem("what is best?", "top", "top")])
    assert tie.detail["first_shown_first"] == pytest.approx(sigmoid(bias), abs=1e-6)
    assert tie.prob_first == pytest.approx(0.5, abs=1e-6)


def test_swapping_a_pair_gives_the_complementary_verdict_on_a_real_model(loaded_tiny):
    judge = LocalJudge(loaded_tiny, template=FAKE_TEMPLATE, choices=LETTERS, batch_size=3)
    x, y = "the answer is 5.", "it is 7"
    forward, backward = judge.compare(
        [PairItem("what is 2 + 3?", x, y), PairItem("what is 2 + 3?", y, x)]
    )
    assert forward.prob_first + backward.prob_first == pytest.approx(1.0, abs=1e-5)
    assert forward.confidence == backward.confidence


def test_batching_and_left_padding_do_not_change_verdicts(loaded_tiny):
    items = [
        PairItem("what is 2 + 3?", "5", "the answer is 6."),
        PairItem("what is 12 + 30?", "the answer is 42, clearly.", "41"),
        PairItem("hi", "a", "b"),
    ]
    batched = LocalJudge(loaded_tiny, template=FAKE_TEMPLATE, choices=LETTERS, batch_size=6)
    alone = LocalJudge(loaded_tiny, template=FAKE_TEMPLATE, choices=LETTERS, batch_size=1)
    for one, other in zip(batched.compare(items), alone.compare(items), strict=True):
        assert one.prob_first == pytest.approx(other.prob_first, abs=1e-5)
        assert 0.0 < one.prob_first < 1.0


def test_an_input_longer_than_the_context_is_an_error_for_that_pair_only(loaded_tiny):
    judge = LocalJudge(loaded_tiny, template=FAKE_TEMPLATE, choices=LETTERS)
    long = "z" * 150  # the tiny model reads at most 128 positions
    short, too_long = judge.compare([PairItem("q", "x", "y"), PairItem("q", long, "y")])
    assert short.ok
    assert not too_long.ok and too_long.prob_first is None and too_long.confidence is None
    assert "128" in too_long.error and "not judged" in too_long.error
    assert too_long.detail["tokens"] > 150


def test_labels_that_are_not_distinct_known_first_tokens_are_refused(loaded_tiny):
    with pytest.raises(EngineError, match="not a token"):
        LocalJudge(loaded_tiny, template=FAKE_TEMPLATE, choices=("A", "B"))
    with pytest.raises(EngineError, match="same token"):
        LocalJudge(loaded_tiny, template=FAKE_TEMPLATE, choices=("ab", "ac"))
    with pytest.raises(EngineError, match="two non-empty labels"):
        LocalJudge(loaded_tiny, template=FAKE_TEMPLATE, choices=("a",))
    with pytest.raises(EngineError, match="unknown placeholder"):
        LocalJudge(loaded_tiny, template="{prompt} {first} {second} {answer}", choices=LETTERS)


def test_pointwise_score_is_the_probability_of_yes(fake_loaded):
    judge = fake_judge(fake_loaded(bias=-1.0, scale=0.5))
    chat = [{"role": "user", "content": "q"}]
    scores = judge.score([PointItem("q", "zzzz"), PointItem(chat, "")])
    assert scores[0].value == pytest.approx(sigmoid(-1.0 + 2.0), abs=1e-6)
    assert scores[1].value == pytest.approx(sigmoid(-1.0), abs=1e-6)


def test_stop_leaves_the_rest_unjudged_and_progress_counts_items(fake_loaded):
    loaded = fake_loaded()
    judge = fake_judge(loaded, batch_size=2)  # one pair (two orders) per batch
    asked, seen = [], []

    def should_stop():
        asked.append(True)
        return len(asked) > 1

    items = [PairItem("q", "z", "y"), PairItem("q", "y", "z"), PairItem("q", "zz", "z")]
    verdicts = judge.compare(
        items, progress=lambda d, t: seen.append((d, t)), should_stop=should_stop
    )
    assert verdicts[0].ok and verdicts[0].prob_first > 0.5
    assert [v.error for v in verdicts[1:]] == [STOPPED, STOPPED]
    assert seen == [(1, 3)]
    assert loaded.model.calls == [(2, loaded.model.calls[0][1])]  # one batch of two rows ran


def test_identity_names_the_model_and_changes_with_the_template(fake_loaded):
    loaded = fake_loaded()
    one, same = fake_judge(loaded), fake_judge(loaded)
    other = fake_judge(loaded, criteria="be strict")
    assert one.identity == same.identity
    assert one.identity.startswith("local:fake#") and len(one.identity.split("#")[1]) == 8
    assert other.identity != one.identity
    assert fake_judge(loaded, name="judge-7").identity.startswith("local:judge-7#")


def test_judge_json_beside_the_model_sets_how_it_is_asked(tmp_path, fake_loaded):
    assert load_judge_config(tmp_path).template == DEFAULT_PAIR_TEMPLATE
    assert load_judge_config(tmp_path).criteria == DEFAULT_CRITERIA
    (tmp_path / "judge.json").write_text(
        json.dumps(
            {"mode": "pairwise", "template": FAKE_TEMPLATE, "choices": ["a", "b"], "criteria": ""}
        )
    )
    config = load_judge_config(tmp_path)
    assert (config.template, config.choices, config.criteria) == (FAKE_TEMPLATE, ("a", "b"), "")
    judge = build_local_judge(fake_loaded(2.0, 1.0, source_dir=tmp_path))
    assert judge.template == FAKE_TEMPLATE and judge.choices == ("a", "b")
    assert judge.compare([PairItem("q", "zz", "")])[0].prob_first == pytest.approx(
        (sigmoid(4.0) + 1 - sigmoid(0.0)) / 2, abs=1e-6
    )
    # A pointwise judge keeps the default yes/no labels, not the file's pairwise ones.
    pointwise = build_local_judge(
        fake_loaded(source_dir=tmp_path), mode="pointwise", template=FAKE_POINT_TEMPLATE
    )
    assert pointwise.point_choices == ("yes", "no")


def test_a_broken_judge_json_is_a_clear_error(tmp_path):
    (tmp_path / "judge.json").write_text("{not json")
    with pytest.raises(EngineError, match="judge settings"):
        load_judge_config(tmp_path)
    (tmp_path / "judge.json").write_text(json.dumps({"template": "{prompt} {first}"}))
    with pytest.raises(EngineError, match=r"lacks the placeholder \{second\}"):
        load_judge_config(tmp_path)
    for bad in (0.7, -0.1, "0.2", True):
        (tmp_path / "judge.json").write_text(json.dumps({"tie_margin": bad}))
        with pytest.raises(EngineError, match="tie_margin .* from 0 to 0.5"):
            load_judge_config(tmp_path)


def test_judge_json_may_suggest_a_tie_margin(tmp_path):
    assert load_judge_config(tmp_path).tie_margin == 0.0
    (tmp_path / "judge.json").write_text(json.dumps({"mode": "pairwise", "tie_margin": 0.25}))
    assert load_judge_config(tmp_path).tie_margin == 0.25


def test_reward_callables_give_none_for_failed_judgements(fake_loaded):
    judge = fake_judge(fake_loaded(bias=0.0, scale=1.0, max_positions=40))
    reward = pointwise_reward(judge)
    values = reward(["q", "q"], ["z", "z" * 60])
    assert values[0] == pytest.approx(sigmoid(1.0), abs=1e-6) and values[1] is None
    preference = pair_preference(judge)
    assert preference(["q"], ["zz"], [""])[0] > 0.5
    with pytest.raises(EngineError, match="different lengths"):
        reward(["q"], ["a", "b"])


def test_weights_fingerprint_follows_the_weights_not_the_folder(tmp_path):
    from engine.judge.local import weights_fingerprint

    first, copy, retrained = (tmp_path / n for n in ("first", "copy", "retrained"))
    for folder, payload in (
        (first, b"\x01" * 3000),
        (copy, b"\x01" * 3000),
        (retrained, b"\x02" * 3000),
    ):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(payload)
        (folder / "README.md").write_text(folder.name)
    assert weights_fingerprint(first) == weights_fingerprint(copy)
    assert weights_fingerprint(first) != weights_fingerprint(retrained)
