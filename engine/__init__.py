"""The engine: models, losses, training and generation (torch, no Qt, no database)."""

from engine.cpu_threads import prepare_openmp_environment

# Before any engine module imports torch: OpenMP reads its wait policy once, at load.
prepare_openmp_environment()
