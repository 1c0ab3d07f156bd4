"""The embedded demo: a tiny arithmetic language model shipped with the app.

The model in ``model/`` answers questions such as "What is 23 + 45?" with
"The answer is 68.", correctly only about half the time, so that alignment
(sampling, ranking, reinforcement learning) has visible room to improve it.
``task.py`` defines the problems, the answer format and the scoring; it is pure
Python so the GUI can import this package without loading torch.
``packaging/train_demo_model.py`` rebuilds the model from nothing.

The judge in ``judge/`` is a separate tiny model with the same tokenizer that
compares two answers to a demo question and names the right one ("A" or "B");
``judge/judge.json`` holds its prompt template and choice labels.
``packaging/train_demo_judge.py`` rebuilds it.
"""

from pathlib import Path

DEMO_MODEL_DIR = Path(__file__).parent / "model"
DEMO_MODEL_NAME = "workbench-demo-arith"
DEMO_JUDGE_DIR = Path(__file__).parent / "judge"
DEMO_JUDGE_NAME = "workbench-demo-judge"

__all__ = ["DEMO_JUDGE_DIR", "DEMO_JUDGE_NAME", "DEMO_MODEL_DIR", "DEMO_MODEL_NAME"]
