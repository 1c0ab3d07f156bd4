"""LoRA training: ``train`` runs one run of an offline method (on labelled examples) or of
an online one (on completions it samples and rewards). Importing the package does not
import torch."""

from engine.training.dispatch import train

__all__ = ["train"]
