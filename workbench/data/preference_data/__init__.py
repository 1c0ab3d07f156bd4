"""Training data from the project's labels: preference pairs and unpaired examples built
from comparisons and completion labels, and TRL's dataset formats in and out.

Modules: `labels` (the rows read from the database), `candidates` (a label to the
examples it stands for), `cleaning` (identical, contradictory, repeated examples),
`dataset` (build_dataset, LabelDataset), `holdout` (an eval set by prompt),
`trl_formats` (one record of each TRL format), `importer`, `exporter`, `files`.
"""

from workbench.data.preference_data.dataset import LabelDataset, Selection, build_dataset
from workbench.data.preference_data.exporter import export_dataset
from workbench.data.preference_data.holdout import hold_out
from workbench.data.preference_data.importer import PairImportReport, import_preferences
from workbench.data.preference_data.trl_formats import FORMATS, PAIR_FORMATS, UNPAIRED_FORMATS

__all__ = [
    "FORMATS",
    "PAIR_FORMATS",
    "UNPAIRED_FORMATS",
    "LabelDataset",
    "PairImportReport",
    "Selection",
    "build_dataset",
    "export_dataset",
    "hold_out",
    "import_preferences",
]
