"""Print the README's table of training config keys (run after changing a setting):

.venv/bin/python packaging/config_table.py
"""

from __future__ import annotations

import json

from workbench.training.config import config_docs


def config_table() -> str:
    lines = ["| key | default | what it does |", "|---|---|---|"]
    for key, default, help_text in config_docs():
        shown = "(unset)" if default is None else json.dumps(default)
        lines.append(f"| `{key}` | `{shown}` | {help_text.replace('|', '/')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(config_table())
