"""The shipped demo model: offline loading, packaging, and the measured behaviour
the demo depends on (answers well formed, correct only part of the time)."""

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from engine.demo import DEMO_MODEL_DIR  # noqa: E402
from engine.demo.task import demo_splits, is_correct, is_well_formed, parse_answer  # noqa: E402

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf")


@pytest.fixture(scope="module")
def tokenizer():
    return transformers.AutoTokenizer.from_pretrained(DEMO_MODEL_DIR, local_files_only=True)


@pytest.fixture(scope="module")
def model():
    loaded = transformers.AutoModelForCausalLM.from_pretrained(
        DEMO_MODEL_DIR, local_files_only=True
    )
    loaded.eval()
    return loaded


def greedy(model, tokenizer, questions, max_new_tokens):
    prompts = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": q}], add_generation_prompt=True, tokenize=False
        )
        for q in questions
    ]
    batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        output = model.generate(**batch, do_sample=False, max_new_tokens=max_new_tokens)
    return tokenizer.batch_decode(
        output[:, batch["input_ids"].shape[1] :], skip_special_tokens=True
    )


def test_folder_holds_only_safetensors_weights_and_is_small():
    files = [p for p in DEMO_MODEL_DIR.iterdir()]
    assert all(p.is_file() for p in files)
    weights = [p.name for p in files if p.name.endswith(WEIGHT_SUFFIXES)]
    assert weights == ["model.safetensors"]
    assert {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"} <= {
        p.name for p in files
    }
    assert sum(p.stat().st_size for p in files) < 10 * 1024 * 1024


def test_chat_template_lives_in_tokenizer_config():
    config = json.loads((DEMO_MODEL_DIR / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert "{%" in config["chat_template"]


def test_config_is_a_small_llama(model, tokenizer):
    assert model.config.model_type == "llama"
    assert model.config.vocab_size == len(tokenizer)
    assert sum(p.numel() for p in model.parameters()) < 3_000_000
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    assert model.generation_config.pad_token_id == tokenizer.pad_token_id


def test_tokenizer_special_tokens(tokenizer):
    assert tokenizer.eos_token == "<|end|>"
    assert tokenizer.pad_token is not None
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    assert tokenizer.padding_side == "left"


def test_chat_template_renders_prompt_and_ends_turns_with_eos(tokenizer):
    messages = [{"role": "user", "content": "What is 23 + 45?"}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert prompt == "<|user|>What is 23 + 45?<|end|><|assistant|>"
    conversation = messages + [{"role": "assistant", "content": "The answer is 68."}]
    rendered = tokenizer.apply_chat_template(conversation, tokenize=False)
    assert rendered.endswith("The answer is 68." + tokenizer.eos_token)


def test_decode_returns_exact_text(tokenizer):
    text = "Is 7 - 30 = -23 correct? Answer yes or no. (Really, it's fine!)"
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert len(ids) == len(text)  # one token per character
    with_specials = [tokenizer.convert_tokens_to_ids("<|user|>"), *ids, tokenizer.eos_token_id]
    assert tokenizer.decode(with_specials, skip_special_tokens=True) == text


def test_unknown_characters_map_to_unk(tokenizer):
    ids = tokenizer.encode("1 × 2 = 2 ✓", add_special_tokens=False)
    assert ids.count(tokenizer.unk_token_id) == 2


def test_eval_accuracy_is_in_the_demo_window(model, tokenizer):
    problems = demo_splits()["eval"]
    replies = greedy(model, tokenizer, [p.question for p in problems], max_new_tokens=24)
    well_formed = sum(map(is_well_formed, replies)) / len(replies)
    accuracy = sum(is_correct(r, p) for r, p in zip(replies, problems, strict=True)) / len(replies)
    assert well_formed >= 0.95, replies[:10]
    assert 0.30 <= accuracy <= 0.60


def test_errors_are_the_trained_off_by_one_habit(model, tokenizer):
    # The room RL has: where greedy decoding is wrong it gives the answer plus one,
    # the habit the training script instilled, not noise; sampling finds the right one.
    problems = demo_splits()["eval"]
    replies = greedy(model, tokenizer, [p.question for p in problems], max_new_tokens=24)
    right_or_habit = sum(
        parse_answer(r) in (p.answer, p.answer + 1) for r, p in zip(replies, problems, strict=True)
    )
    assert right_or_habit / len(problems) >= 0.75  # measured: 158/200
