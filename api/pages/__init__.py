"""The reviewers' web pages: ``routes`` (queue, case page, page images, forms) and ``view`` (what
they show, in plain Chinese). Server-rendered from ``api/templates``, scripts and styles from
``api/static``; no build step."""
