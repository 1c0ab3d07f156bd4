"""Live training charts (DESIGN.md section 7): ``RunCharts`` for the Train and Runs views."""

from ui.charts.run_charts import RunCharts

__all__ = ["RunCharts"]
