"""Figures for reports, drawn headless with matplotlib (imported at first use: only report functions carry
it) and written as PNG. Must never open a display."""

from __future__ import annotations

import base64
import io
from typing import Any


def figure(height: float, width: float = 8) -> Any:
    import matplotlib

    matplotlib.use("Agg")  # headless
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height), dpi=100)


def png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def data_uri(image: bytes) -> str:
    """A PNG as an <img src> that keeps an HTML report self-contained."""
    return "data:image/png;base64," + base64.b64encode(image).decode()
