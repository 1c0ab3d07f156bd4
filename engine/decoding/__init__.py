"""The lean decode loop: a group's prompt is prefilled once and its KV cache shared by the
group's samples, then one token per step for the rows still running, sampled on the
device. ``loop.decode`` runs it, ``sampler.TokenSampler`` draws each step's tokens exactly
as transformers' ``generate()`` would under the same seed, and ``support.lean_decoding_supported``
says which models it covers (the others fall back to ``generate()``).

Importing this package does not import torch; its modules do.
"""
