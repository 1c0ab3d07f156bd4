"""Judges: a local model or an OpenAI-compatible endpoint that compares or scores completions."""
