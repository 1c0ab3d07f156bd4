"""Exporting a checkpoint (adapter, merged model, GGUF, Ollama) and a project's data
(comparisons, arena battles, a run's metrics and samples) to files.

Checks that need no model (the request, the destination, free space, whether GGUF can
take the architecture) run here before a job is queued; the export itself is the
``export_model`` job (``workbench/jobs/handlers/export_model.py``), which writes into a
temporary folder and renames it into place (``staging.py``).
"""
