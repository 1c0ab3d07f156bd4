"""Stored comparisons of models and checkpoints: the base model and trained checkpoints
answering the same prompts, scored by the project's rules (`workbench compare`)."""
