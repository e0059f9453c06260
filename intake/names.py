"""File names are data: ``display_name`` is the one form in which a file name is shown to anyone.

A file name comes from an app's upload or from a folder on disk, so it may hold anything a file
system allows: line breaks (a name ``"a\\n2. …"`` would forge a numbered item of the 一次性告知
notice), bidi overrides (``"申请\\u202egpj.exe"`` shows as ``申请exe.jpg``), HTML, bytes that are not
UTF-8, a path. ``display_name`` makes one line of plain text of it; the rules, in order:

1. **No path components**: ``\\`` counts as ``/`` and only the last component is kept
   (``../../etc/passwd.png`` → ``passwd.png``).
2. **Unicode NFC** (macOS writes names decomposed; the same name must compare equal). Not NFKC,
   which would turn the full-width forms of rule 5 back into ``<`` and ``&``.
3. **One line**: every whitespace character (line and paragraph separators, tabs, ``\\r``, U+0085,
   the ideographic space …) becomes a space; runs of spaces become one; both ends are trimmed.
4. **Nothing invisible**: control characters (Cc) and format characters (Cf: bidi embeddings,
   overrides and isolates, zero-width characters, BOM, tag characters) are removed; a lone
   surrogate (a byte that was not UTF-8, as ``os.fsdecode`` hands it over) becomes U+FFFD, so the
   name can always be stored and written as UTF-8.
5. **Inert in any app**: ``< > & " '`` become their full-width forms ``＜ ＞ ＆ ＂ ＇``. The name stays
   readable to a person, is harmless in HTML, XML and attribute values whether or not an app
   escapes it, and is escaped nowhere twice (an HTML entity such as ``&lt;`` would show as such in
   every app that does not render HTML: SMS, push notices, the JSON report's readers).
6. **Bounded**: at most ``MAX_NAME_CHARS`` characters; a longer name keeps its head and its
   extension around an ellipsis (``很长……的名字…….pdf``), so the type of file still shows.
7. **Never empty**: a name with nothing left is shown as ``upload``.

The function is idempotent (``display_name(display_name(x)) == display_name(x)``): a name stored
in this form and shown again (the notice, the terminal) is shown unchanged. Rich markup (``[bold]``)
is not a concern of this function: the terminal output passes names as ``rich.text.Text``, never
as markup.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 200  # Document.filename holds 255: room for the "#<sha256 prefix>" of a repeated name
EMPTY_NAME = "upload"
# The extension kept whole when a long name is shortened (".pdf", ".jpeg", ".pdf#1a2b3c4d").
_MAX_KEPT_SUFFIX = 16
_ELLIPSIS = "…"

_INVISIBLE = ("Cc", "Cf")  # control and format characters (bidi controls, zero-width, BOM, tags)
_INERT = str.maketrans({"<": "＜", ">": "＞", "&": "＆", '"': "＂", "'": "＇"})


def display_name(name: str, *, max_chars: int = MAX_NAME_CHARS) -> str:
    """The file name as shown to people: one line of plain, inert, bounded text (rules above)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", "".join("\ufffd" if _is_surrogate(ch) else ch for ch in name))
    kept = "".join(" " if ch.isspace() else ch for ch in name
                   if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE)
    name = " ".join(kept.split()).translate(_INERT) or EMPTY_NAME
    return _shortened(name, max_chars)


def _is_surrogate(ch: str) -> bool:
    # A lone surrogate (U+D800–U+DFFF) is how os.fsdecode hands over a byte that was not UTF-8;
    # it cannot be encoded as UTF-8, so the name could be neither stored nor printed.
    return "\ud800" <= ch <= "\udfff"


def _shortened(name: str, max_chars: int) -> str:
    if len(name) <= max_chars:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension
    if not stem or len(suffix) > _MAX_KEPT_SUFFIX or len(suffix) >= max_chars - 1:
        suffix = ""
    head = name[: max_chars - len(suffix) - len(_ELLIPSIS)].rstrip(" ")
    return head + _ELLIPSIS + suffix
