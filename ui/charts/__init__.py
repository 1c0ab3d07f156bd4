"""Live training charts (docs/architecture.md, "Views and charts"): ``RunCharts`` for the Train and Runs views."""

from ui.charts.run_charts import RunCharts

__all__ = ["RunCharts"]
