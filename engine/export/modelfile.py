"""An Ollama Modelfile for an exported GGUF (torch-free): FROM, a TEMPLATE translated
from the model's Jinja chat template, the stop tokens and the decoding settings.

Translation is by observation, not by parsing Jinja: the template is rendered with
sentinel messages, and when every message turns out to be ``prefix + content + suffix``
for its role, concatenated, followed by a fixed generation prompt (ChatML, Llama 3,
Phi-3, the demo model), the same structure is written as a Go template over
``.Messages``. A template with logic beyond that (a default system prompt, tools) is not
translated, and the Modelfile says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ROLES = ("system", "user", "assistant")
_SENTINEL = "\u2063CONTENT{}\u2063"

# Playground / comparison sampling keys -> Ollama PARAMETER names.
OLLAMA_PARAMETERS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "max_new_tokens": "num_predict",
    "repetition_penalty": "repeat_penalty",
    "seed": "seed",
}


@dataclass(frozen=True)
class ChatShape:
    """What each role's message looks like around its content, and what follows the
    last message when the model is to answer."""

    wrappers: dict[str, tuple[str, str]]
    generation_prompt: str
    bos: str


def _render(template: str, messages: list[dict[str, str]], add_generation_prompt: bool, **extra):
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str):
        raise TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    env.filters["tojson"] = lambda value, **_: json.dumps(value)
    return env.from_string(template).render(
        messages=messages, add_generation_prompt=add_generation_prompt, **extra
    )


def chat_shape(template: str, special_tokens: dict[str, str] | None = None) -> ChatShape | None:
    """The per-role wrappers of ``template``, or None when it is more than that."""
    extra = dict(special_tokens or {})
    try:
        wrappers: dict[str, tuple[str, str]] = {}
        for index, role in enumerate(ROLES):
            content = _SENTINEL.format(index)
            text = _render(template, [{"role": role, "content": content}], False, **extra)
            if text.count(content) != 1:
                return None
            prefix, suffix = text.split(content)
            wrappers[role] = (prefix, suffix)
        # The BOS token a template writes once at the start; llama.cpp adds it itself.
        bos = extra.get("bos_token") or ""
        if not bos or not all(p.startswith(bos) for p, _ in wrappers.values()):
            bos = ""
        wrappers = {r: (p[len(bos) :], s) for r, (p, s) in wrappers.items()}
        conversation = [
            {"role": role, "content": _SENTINEL.format(i)} for i, role in enumerate(ROLES)
        ]
        expected = bos + "".join(
            wrappers[m["role"]][0] + m["content"] + wrappers[m["role"]][1] for m in conversation
        )
        if _render(template, conversation, False, **extra) != expected:
            return None
        with_prompt = _render(template, conversation, True, **extra)
        if not with_prompt.startswith(expected):
            return None
        return ChatShape(wrappers, with_prompt[len(expected) :], bos)
    except Exception:  # a template that cannot render sentinel messages is not translated
        return None


def go_template(shape: ChatShape) -> str:
    """The Ollama (Go text/template) TEMPLATE of ``shape``."""
    branches = []
    for index, role in enumerate(ROLES):
        prefix, suffix = shape.wrappers[role]
        keyword = "if" if index == 0 else "else if"
        branches.append(f'{{{{ {keyword} eq .Role "{role}" }}}}{prefix}{{{{ .Content }}}}{suffix}')
    return (
        "{{- range .Messages }}"
        + "".join(branches)
        + "{{ end }}{{ end }}"
        + shape.generation_prompt
    )


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def modelfile_text(
    gguf_name: str,
    *,
    chat_template: str | None,
    stop_tokens: list[str],
    sampling: dict[str, Any] | None = None,
    special_tokens: dict[str, str] | None = None,
    header: str = "",
) -> tuple[str, bool]:
    """(Modelfile text, whether the chat template was translated)."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines.append(f"FROM ./{gguf_name}")
    shape = chat_shape(chat_template, special_tokens) if chat_template else None
    if shape is not None:
        lines.append(f'TEMPLATE """{go_template(shape)}"""')
    elif chat_template:
        lines.append(
            "# The chat template does more than wrap each message, so it was not translated;"
        )
        lines.append("# Ollama reads the template embedded in the GGUF file instead.")
    for token in dict.fromkeys(stop_tokens):
        lines.append(f"PARAMETER stop {_quoted(token)}")
    sampling = dict(sampling or {})
    if sampling.get("do_sample") is False:
        sampling["temperature"] = 0
    for key, name in OLLAMA_PARAMETERS.items():
        value = sampling.get(key)
        if value is not None:
            lines.append(f"PARAMETER {name} {value}")
    return "\n".join(lines) + "\n", shape is not None
