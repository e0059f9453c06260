"""Masks for personal data in lists: whole values are shown only on a case's own page, whose views
are audited (``intake.workspace.casefile``)."""

from __future__ import annotations


def mask_id_number(number: str | None) -> str:
    """2312**********3416: the first four (the region) and the last four characters kept."""
    if not number:
        return ""
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 1)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str | None) -> str:
    """张*明, 张*, 欧**明: the first and (from three characters on) the last character kept."""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
