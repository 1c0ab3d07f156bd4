"""The GUI imports these engine modules at start-up; none may import torch & co."""

import subprocess
import sys

LIGHT_MODULES = [
    "engine.errors",
    "engine.device",
    "engine.model_source",
    "engine.fit",
    "engine.generation",
    "engine.lora",
    "engine.checkpoints",
    "engine.loading",
    "engine.session",
    "engine.training.config",
    "engine.training.online.rewards",
    "engine.judge.base",
    "engine.judge.templates",
    "engine.judge.endpoint_settings",
    "engine.judge.endpoint_key",
]


def test_engine_modules_do_not_import_torch():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in LIGHT_MODULES)
        + "heavy = [m for m in ('torch', 'transformers', 'peft', 'accelerate', 'safetensors',"
        " 'PySide6') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
