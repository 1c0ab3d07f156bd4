"""Closing the window while jobs run: keep them running in the background (the default; the
workers are detached and a window opened later attaches to them), stop and save them, or
cancel closing."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from ui.poller import JobState

KEEP, STOP, CANCEL = "keep", "stop", "cancel"


def describe_jobs(active: list[JobState]) -> str:
    running = [j for j in active if j.status == "running"]
    queued = len(active) - len(running)
    parts = [f"job {j.id} ({j.kind}, {j.progress_done}/{j.progress_total})" for j in running]
    if queued:
        parts.append(f"{queued} queued job(s)")
    return ", ".join(parts)


def ask_close_choice(parent: QWidget | None, active: list[JobState]) -> str:
    """KEEP, STOP or CANCEL."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Jobs are running")
    box.setText(f"This project's worker is running {describe_jobs(active)}.")
    box.setInformativeText(
        "Keep running: training goes on in the background and the window shows it again "
        "when you reopen the project. Stop and save: a training run saves a checkpoint "
        "and ends as stopped (resume it later); queued jobs are cancelled."
    )
    keep = box.addButton("Keep running in the background", QMessageBox.ButtonRole.AcceptRole)
    stop = box.addButton("Stop and save", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep)
    box.exec()
    clicked = box.clickedButton()
    return KEEP if clicked is keep else STOP if clicked is stop else CANCEL
