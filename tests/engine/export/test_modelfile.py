"""Ollama Modelfiles: the chat templates that are a wrapper per message become Go
templates that render the same text; others are left to Ollama with a note."""

from __future__ import annotations

import json

import engine.demo as demo
from engine.export.modelfile import chat_shape, go_template, modelfile_text
from tests.engine.export.tiny_models import QWEN2_TEMPLATE

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
LLAMA3 = (
    "{{- bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] "
    "+ '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)


def _demo_template() -> str:
    return json.loads((demo.DEMO_MODEL_DIR / "tokenizer_config.json").read_text())["chat_template"]


def test_demo_modelfile_content():
    text, translated = modelfile_text(
        "demo-f16.gguf",
        chat_template=_demo_template(),
        stop_tokens=["<|end|>", "<|end|>"],
        sampling={"do_sample": False, "max_new_tokens": 24, "temperature": 1.0, "seed": 0},
        header="Import it with: ollama create demo -f Modelfile",
    )
    assert translated
    assert text.splitlines() == [
        "# Import it with: ollama create demo -f Modelfile",
        "FROM ./demo-f16.gguf",
        'TEMPLATE """{{- range .Messages }}'
        '{{ if eq .Role "system" }}<|system|>{{ .Content }}<|end|>'
        '{{ else if eq .Role "user" }}<|user|>{{ .Content }}<|end|>'
        '{{ else if eq .Role "assistant" }}<|assistant|>{{ .Content }}<|end|>'
        '{{ end }}{{ end }}<|assistant|>"""',
        'PARAMETER stop "<|end|>"',
        "PARAMETER temperature 0",  # greedy decoding in the playground
        "PARAMETER num_predict 24",
        "PARAMETER seed 0",
    ]


def test_chatml_translates_to_the_same_text():
    shape = chat_shape(CHATML)
    assert shape is not None
    assert shape.wrappers["user"] == ("<|im_start|>user\n", "<|im_end|>\n")
    assert shape.generation_prompt == "<|im_start|>assistant\n"
    assert '{{ else if eq .Role "assistant" }}<|im_start|>assistant\n{{ .Content }}' in go_template(
        shape
    )


def test_llama3_bos_is_left_to_llama_cpp():
    shape = chat_shape(LLAMA3, {"bos_token": "<|begin_of_text|>"})
    assert shape is not None
    assert shape.bos == "<|begin_of_text|>"
    assert shape.wrappers["system"] == (
        "<|start_header_id|>system<|end_header_id|>\n\n",
        "<|eot_id|>",
    )
    assert "<|begin_of_text|>" not in go_template(shape)


def test_template_with_a_default_system_prompt_is_not_translated():
    text, translated = modelfile_text(
        "q.gguf", chat_template=QWEN2_TEMPLATE, stop_tokens=["<|im_end|>"]
    )
    assert not translated
    assert not any(line.startswith("TEMPLATE") for line in text.splitlines())
    assert "not translated" in text
    assert 'PARAMETER stop "<|im_end|>"' in text


def test_no_template_no_template_line():
    text, translated = modelfile_text("m.gguf", chat_template=None, stop_tokens=[])
    assert text == "FROM ./m.gguf\n" and not translated
