"""Tooltips wrap at a readable width.

Qt shows a plain-text tooltip as one line until it is wider than the screen, so a long
reason or description became a strip across the whole window. A plain text wider than
`TOOLTIP_EM` ems is turned into rich text in a table of that width, which Qt wraps; short
texts and texts that are already rich stay as they are.
"""

from __future__ import annotations

import html

from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    Qt,  # the QtGui Qt carries mightBeRichText
)

TOOLTIP_EM = 60  # about 100 characters a line: long enough for a sentence, short to read


def tooltip_width(font: QFont) -> int:
    """The widest a tooltip's text may be, in pixels, in ``font``."""
    return TOOLTIP_EM * QFontMetrics(font).horizontalAdvance("M")


def wrap_tooltip(text: str, font: QFont) -> str:
    """``text`` as a tooltip no wider than `tooltip_width` (unchanged when it fits or is rich)."""
    if not text or Qt.mightBeRichText(text):
        return text
    width = tooltip_width(font)
    metrics = QFontMetrics(font)
    if max(metrics.horizontalAdvance(line) for line in text.splitlines() or [text]) <= width:
        return text
    # Newlines and runs of spaces kept as written (answers, tracebacks); long lines wrap.
    body = html.escape(text).replace("\n", "<br>")
    return f'<table width="{width}"><tr><td style="white-space:pre-wrap">{body}</td></tr></table>'
