"""The phases a training run goes through, as the names it reports through
``TrainHooks.on_phase(phase, done, total)`` (plain strings, no torch).

``done``/``total`` count what the phase counts: batches of the reference pass, the step
being taken (sampling, scoring, training), batches or prompts evaluated, or the step a
checkpoint is saved at. ``total`` 0 means the phase has no count."""

from __future__ import annotations

LOADING = "loading"  # the model, before the engine runs (reported by the application)
REFERENCE = "reference"  # reference log-probs of an offline run's examples
SAMPLING = "sampling"  # an online step's rollouts
SCORING = "scoring"  # an online step's rewards
TRAINING = "training"  # the forward and backward passes and the update of a step
EVALUATING = "evaluating"
CHECKPOINTING = "checkpointing"

PHASES = (LOADING, REFERENCE, SAMPLING, SCORING, TRAINING, EVALUATING, CHECKPOINTING)
# Work that is not a training step: left out of the step time an ETA is measured from.
PAUSES = (EVALUATING, CHECKPOINTING)
