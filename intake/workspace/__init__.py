"""The reviewers' workspace (issue 12): what a reviewer, a supervisor or an administrator does to
the cases of their regions, over the database. The JSON API (``api.routes.workspace``) and the web
pages call these; no HTTP here.

Modules, one job each:
- ``access``: which applications a user may see (their regions; 404 otherwise), the current case
  of an application, and whether it is still open to a reviewer's work.
- ``claims``: claim, release and reassign a case (one active claim per application).
- ``edits``: a reviewer's field corrections and re-typing, and the re-assessment that follows.
- ``overlay``: edits laid over the extraction in every assessment (``intake.service.assess_reports``).
- ``decisions``: approve, reject with reason codes, request a supplement with an edited notice;
  per-document marks (accepted, needs a retake).
- ``queue``: the queue of cases (filters, search, SLA order, paging).
- ``casefile``: everything the case page shows of one application.
- ``dashboard``: per region and ISO week, what supervisors chart.
- ``masking``: ID numbers and names as lists show them.

Rounds and revisions: a case (``Case``) is one assessment of one submission round. Whatever
changes a round's outcome after it was assessed adds a new revision of it and marks the old one
``superseded_by`` the new (nothing is overwritten): a reviewer's edit or re-typing (a re-assessment
from the stored document reports, no OCR) and a supplement request (the reviewer's notice and
problems). The current case of an application is the one of its current round not superseded.
The first assessment's verdict stays in every later revision's report as ``prescreen_verdict``,
which the dashboard compares decisions with. A re-assessment never changes the application's status
and calls nobody back: only a reviewer's decision does.
"""
