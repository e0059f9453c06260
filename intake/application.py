"""An application as the applicant submitted it: their details and the files they uploaded.

Two checks of its fields, for two kinds of input:

- ``validate_application``: a new application sent to the service by an app. Every problem is
  reported at once (``ApplicationInvalid.errors``), in plain Chinese, with what to do about it.
- ``check_folder_application``: an application folder given to ``intake prescreen`` by an operator.
  Its details are trusted operator data; only dates that would break the pre-screening are refused.

And the files of such a folder: ``read_folder`` sorts every entry into a document or a skip with
its reason, without following or opening anything; ``read_folder_file`` reads a document's bytes,
never more than the size limit + 1, without blocking.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, StringConstraints, ValidationError, field_validator
from stdnum.cn import ric

from intake.clock import local_date
from intake.errors import ApplicationInvalid, FieldError, FileTooLarge
from intake.names import display_name
from intake.regions import disease_problem

if TYPE_CHECKING:
    from classifiers.diagnosis import DiseaseCatalogue
    from intake.policy import PolicyBook

APPLICATION_FILE = "application.json"
# Not uploads: the application itself and the generator's answer key beside the sample files.
NOT_DOCUMENTS = frozenset({APPLICATION_FILE, "truth.json"})
# Left in folders by operating systems, version control and office suites (compared in lower case).
OS_JUNK_NAMES = frozenset({
    ".ds_store", ".localized", ".directory", "icon\r", "thumbs.db", "ehthumbs.db", "desktop.ini",
    "__macosx", ".spotlight-v100", ".trashes", ".fseventsd", ".temporaryitems", ".apdisk",
    ".gitkeep", ".keep", ".gitignore",
})
MAX_APPLICATION_JSON_BYTES = 1024 * 1024
_READ_CHUNK = 1024 * 1024
# Where the OS has them (not Windows): never follow a link, never block on opening.
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
APPLICATION_KEYS = "applicant_name, id_number, disease, region and application_date"

# Stripped before the length is checked, so a value of only spaces is refused as empty.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

MAX_AGE_YEARS = 120
# A folder's date outside these bounds is a typo (9999-12-31) or a number read as a timestamp (0).
EARLIEST_FOLDER_DATE = dt.date(1990, 1, 1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Agent(BaseModel):
    """The agent (代办人) who applies for the applicant (六盘水: 如代办，需提供代办人身份证及关系证明).
    Their ID card and a proof of their relationship to the applicant become required materials."""

    name: Text
    id_number: Text
    relationship: Text  # to the applicant, as written: 子女, 配偶, 父母 …

    @field_validator("id_number")
    @classmethod
    def _upper_x(cls, value: str) -> str:
        return value.upper()


class Application(BaseModel):
    """The keys of application.json."""

    case_id: str | None = None
    applicant_name: Text
    id_number: Text
    disease: Text  # the claimed 病种
    region: Annotated[str, StringConstraints(strip_whitespace=True)] = "default"
    application_date: dt.date
    agent: Agent | None = None  # 代办: who applies for the applicant, when not the applicant

    @field_validator("id_number")
    @classmethod
    def _upper_x(cls, value: str) -> str:
        return value.upper()

    @field_validator("application_date", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        # pydantic reads a number (or "0") as a Unix timestamp: 0 would silently become 1970-01-01.
        if isinstance(value, int | float) or (isinstance(value, str) and not _ISO_DATE.fullmatch(value.strip())):
            raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-05")
        return value.strip() if isinstance(value, str) else value


# --- a new application sent to the service --------------------------------------------------------

FIELD_LABELS = {
    "case_id": "案件编号",
    "applicant_name": "申请人姓名",
    "id_number": "公民身份号码",
    "disease": "病种",
    "region": "参保地区",
    "application_date": "申请日期",
    "agent": "代办人",
    "agent.name": "代办人姓名",
    "agent.id_number": "代办人公民身份号码",
    "agent.relationship": "代办人与申请人关系",
}


def parse_application(fields: Mapping[str, Any]) -> Application:
    """The ``Application`` of a request's fields, or ``ApplicationInvalid`` naming each field in plain
    Chinese (e.g. a name of only spaces, which a length check before stripping lets through)."""
    try:
        return Application.model_validate(fields)
    except ValidationError as exc:
        errors: dict[str, FieldError] = {}
        for err in exc.errors():
            field = ".".join(str(part) for part in err["loc"][:2]) if err["loc"] else "(root)"
            label = FIELD_LABELS.get(field, field)
            if field == "application_date":
                message = f"{label}格式不对，请按YYYY-MM-DD填写，例如2026-03-05。"
            elif err["type"] in ("missing", "string_too_short"):
                message = f"{label}为空，请填写{label}。"
            else:
                message = f"{label}填写有误（{err['msg']}），请核对后重新填写。"
            errors.setdefault(field, FieldError(field, message))
        raise ApplicationInvalid.of(list(errors.values())) from exc



def validate_application(
    data: Application,
    *,
    policies: PolicyBook,
    catalogue: DiseaseCatalogue,
    today: dt.date,
    unknown_region: str,
) -> None:
    """Refuse an application the service cannot pre-screen: ``ApplicationInvalid`` with every problem.

    ``today`` is the date in China (``intake.clock.local_date()``). ``unknown_region`` is the
    ``INTAKE_UNKNOWN_REGION`` setting: ``"refuse"`` a region without a policy file, or accept it
    under the ``"default"`` policy.
    """
    if unknown_region not in ("refuse", "default"):
        raise ValueError(f"unknown_region must be 'refuse' or 'default', not {unknown_region!r}")
    errors: list[FieldError] = []
    id_problem = id_number_problem(data.id_number, today)
    if id_problem:
        errors.append(FieldError("id_number", id_problem))
    if data.application_date > today:
        errors.append(
            FieldError(
                "application_date",
                f"申请日期{_chinese_date(data.application_date)}晚于今天（{_chinese_date(today)}），"
                "请填写实际提出申请的日期。",
            )
        )
    if data.agent is not None:
        errors += agent_problems(data, today)
    # 病种不在线上办理范围: outside the catalogue, or left out by a region's complete list (intake.regions).
    if (disease_refused := disease_problem(policies.for_region(data.region), data.disease, catalogue)) is not None:
        errors.append(FieldError("disease", disease_refused))
    if unknown_region == "refuse" and data.region not in policies.policies:
        what = f"参保地区“{data.region}”没有对应的门诊慢特病政策" if data.region else "未填写参保地区"
        errors.append(FieldError("region", f"{what}，请填写以下地区之一：{'、'.join(policies.regions)}。"))
    if errors:
        raise ApplicationInvalid.of(errors)


def agent_problems(data: Application, today: dt.date) -> list[FieldError]:
    """What is wrong with the agent (代办人) of an application: their number as the applicant's is
    checked, and an agent is somebody else than the applicant."""
    assert data.agent is not None
    errors: list[FieldError] = []
    problem = id_number_problem(data.agent.id_number, today)
    if problem:
        errors.append(FieldError("agent.id_number", f"代办人的{problem}"))
    elif data.agent.id_number == data.id_number:
        errors.append(FieldError("agent.id_number", "代办人的公民身份号码与申请人相同：本人申请时请不要填写代办人；"
                                                    "代办时请填写代办人本人的号码。"))
    return errors


def id_number_problem(id_number: str, today: dt.date) -> str | None:
    """What is wrong with a 公民身份号码 (GB 11643-1999), in plain Chinese, or ``None``.

    Checked: 18 characters, digits with a final digit or X, a real birth date neither in the future
    nor more than 120 years ago, and the check digit. Not checked: the address code, since the
    list of 行政区划代码 changes every year and a lagging copy would refuse real numbers.
    """
    again = "请对照居民身份证核对后重新填写。"
    if len(id_number) == 15 and id_number.isdigit():
        return "15位的第一代身份证号码已停止使用，请填写18位公民身份号码（第二代居民身份证上的号码）。"
    if len(id_number) != 18:
        return f"公民身份号码应为18位，填写的是{len(id_number)}位，{again}"
    if not (id_number[:17].isascii() and id_number[:17].isdigit() and id_number[17] in "0123456789X"):
        return "公民身份号码只能由数字组成（最后一位可以是X），请去掉空格等其他字符后重新填写。"
    # The birth date first: a mistyped digit there breaks the check digit too, and naming the date
    # tells the applicant where to look.
    try:
        born = ric.get_birth_date(id_number)
    except ValueError:  # stdnum's InvalidComponent is a ValueError
        return f"公民身份号码第7至14位的出生日期“{id_number[6:14]}”不是有效日期，{again}"
    if born > today:
        return f"公民身份号码中的出生日期{_chinese_date(born)}晚于今天，{again}"
    if born < _years_before(today, MAX_AGE_YEARS):
        return f"公民身份号码中的出生日期{_chinese_date(born)}距今超过{MAX_AGE_YEARS}年，{again}"
    if ric.calc_check_digit(id_number) != id_number[17]:
        return "公民身份号码校验位不符，号码中可能有数字填错，请对照居民身份证逐位核对后重新填写。"
    return None


def regions_and_diseases(policies: PolicyBook, catalogue: DiseaseCatalogue) -> dict[str, list[str]]:
    """What an application may name: the regions with a policy and the 病种 of the catalogue."""
    return {"regions": policies.regions, "diseases": [d.name for d in catalogue.diseases]}


def _chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --- an application folder given to the command line ----------------------------------------------


def check_folder_application(data: Application, today: dt.date) -> None:
    """Refuse only what would break the pre-screening of a folder: an absurd ``application_date``
    (more than a year after ``today``, or before 1990). The rest is the operator's data, taken as is."""
    date = data.application_date
    fix = "write the date the application was made, as YYYY-MM-DD"
    if date > _years_after(today, 1):
        raise ApplicationInvalid.of(
            [FieldError("application_date", f"{date} is more than a year after today ({today}); {fix}")]
        )
    if date < EARLIEST_FOLDER_DATE:
        raise ApplicationInvalid.of(
            [FieldError("application_date", f"{date} is before {EARLIEST_FOLDER_DATE.year}; {fix}")]
        )


def load_application(directory: Path) -> tuple[Application, list[Path]]:
    """Read DIR/application.json and list the document files beside it (sorted by name).

    The paths of ``read_folder``'s documents; what it skips (and why) is not returned here."""
    folder = read_folder(directory)
    return folder.application, [document.path for document in folder.documents]


@dataclass(frozen=True)
class FolderDocument:
    """A file of an application folder that is read as a document."""

    name: str  # its name in the folder (shown through intake.names.display_name)
    path: Path  # DIR/name
    source: Path  # what is read: the file itself, or the file inside the folder that a link names
    identity: tuple[int, int]  # (st_dev, st_ino) when listed: the file opened must still be this one
    size: int  # bytes when listed


@dataclass(frozen=True)
class SkippedFile:
    """An entry of an application folder that is not read, and why (for the operator)."""

    name: str
    reason: str

    def shown(self) -> dict[str, str]:
        """The entry of the report's ``skipped`` list: ``{"file", "reason"}``."""
        return {"file": display_name(self.name), "reason": self.reason}


@dataclass(frozen=True)
class ApplicationFolder:
    application: Application
    documents: list[FolderDocument]  # sorted by name
    skipped: list[SkippedFile]  # sorted by name


class FolderFileChanged(Exception):
    """A file of the folder became something else between listing and reading (a race)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.skipped = SkippedFile(name, reason)


def read_folder(directory: Path) -> ApplicationFolder:
    """Read DIR/application.json and sort every other entry of DIR into a document or a skip.

    Nothing is followed or opened to decide: each entry is ``lstat``-ed. A regular file is a
    document, dot-files included; operating-system junk (``.DS_Store``, ``._*`` AppleDouble,
    ``Thumbs.db`` …), sub-folders, FIFOs, sockets and devices are skipped with the reason. A symlink
    is a document only if it resolves to a regular file inside DIR (read from there), and is skipped
    if it leads outside DIR, nowhere, or to anything else. A file reached twice (a link, or a hard
    link, to a file already listed) is read once. ``application.json`` and ``truth.json`` are not
    documents and are not listed at all.
    """
    if not directory.is_dir():
        raise ApplicationInvalid("is not a directory", path=str(directory))
    application = _read_application_json(directory)
    try:
        real_dir = directory.resolve(strict=True)
        with os.scandir(directory) as scan:
            names = sorted(entry.name for entry in scan)
    except (OSError, RuntimeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ApplicationInvalid(f"cannot list the folder: {reason}", path=str(directory)) from exc

    skipped: list[SkippedFile] = []
    links: list[str] = []
    read: dict[tuple[int, int], FolderDocument] = {}
    for name in names:
        if name in NOT_DOCUMENTS:
            continue
        path = directory / name
        if is_os_junk(name):
            skipped.append(SkippedFile(name, "left by the operating system or another program, not a document: "
                                             "not read"))
            continue
        try:
            info = os.lstat(path)
        except OSError as exc:  # removed since it was listed, or no permission on the folder
            skipped.append(SkippedFile(name, f"cannot be examined ({exc.strerror or exc}): not read"))
            continue
        if stat.S_ISLNK(info.st_mode):
            links.append(name)  # after the regular files: a link to one of them is then seen as such
        elif stat.S_ISREG(info.st_mode):
            _add_document(read, skipped, FolderDocument(name, path, path, _identity(info), info.st_size))
        else:
            skipped.append(SkippedFile(name, _not_a_file(info.st_mode, "")))
    for name in links:
        document = _link_document(directory, real_dir, name, skipped)
        if document is not None:
            _add_document(read, skipped, document)
    return ApplicationFolder(
        application=application,
        documents=sorted(read.values(), key=lambda d: d.name),
        skipped=sorted(skipped, key=lambda s: s.name),
    )


def read_folder_file(document: FolderDocument, *, max_bytes: int) -> bytes:
    """The bytes of a folder's document, never more than ``max_bytes`` + 1 of them read.

    Raises ``FileTooLarge`` (nothing read if the listed size is over the limit already),
    ``FolderFileChanged`` if the file is no longer the regular file that was listed (it is then not
    read; opening it cannot block, even if it became a FIFO), or ``OSError``.
    """
    if document.size > max_bytes:
        raise FileTooLarge(document.size, max_bytes)
    try:
        fd = os.open(document.source, os.O_RDONLY | _O_CLOEXEC | _O_NOFOLLOW | _O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW: it became a link
            raise FolderFileChanged(document.name, "became a link after the folder was listed: not read") from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or _identity(info) != document.identity:
            raise FolderFileChanged(document.name, "was replaced after the folder was listed: not read; run again")
        chunks: list[bytes] = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, _READ_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:  # it grew after it was listed
        raise FileTooLarge(max(info.st_size, len(data)), max_bytes)
    return data


def is_os_junk(name: str) -> bool:
    """A file that an operating system or another program leaves in a folder, never an applicant's
    document: macOS ``.DS_Store`` and ``._*`` (AppleDouble), Windows ``Thumbs.db`` and
    ``desktop.ini``, Office ``~$*`` and LibreOffice ``.~lock.*#`` lock files, git's ``.gitkeep``."""
    return (
        name.lower() in OS_JUNK_NAMES
        or name.startswith(("._", "~$"))
        or (name.startswith(".~lock.") and name.endswith("#"))
    )


def _add_document(read: dict[tuple[int, int], FolderDocument], skipped: list[SkippedFile],
                  document: FolderDocument) -> None:
    first = read.get(document.identity)
    if first is None:
        read[document.identity] = document
    elif document.source != document.path:
        skipped.append(SkippedFile(document.name, f"a link to {display_name(first.name)}, which is read: read once"))
    else:
        skipped.append(SkippedFile(document.name, f"the same file as {display_name(first.name)} (a hard link): "
                                                  "read once"))


def _link_document(directory: Path, real_dir: Path, name: str, skipped: list[SkippedFile]) -> FolderDocument | None:
    """The document a symlink of the folder stands for, or None (and why, in ``skipped``).

    The link is resolved as a path (``readlink``/``lstat`` of each component), never opened."""
    path = directory / name
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing target; a loop of links is a RuntimeError before Python 3.13
        skipped.append(SkippedFile(name, "a link to nothing (its target is missing, or links loop): not read"))
        return None
    if target == real_dir or not target.is_relative_to(real_dir):
        skipped.append(SkippedFile(name, "a link to a file outside the folder: not followed, not read"))
        return None
    try:
        info = os.lstat(target)  # resolved: the last component is not a link
    except OSError as exc:
        skipped.append(SkippedFile(name, f"a link whose target cannot be examined ({exc.strerror or exc}): not read"))
        return None
    if not stat.S_ISREG(info.st_mode):
        skipped.append(SkippedFile(name, _not_a_file(info.st_mode, "a link to ")))
        return None
    if target.parent == real_dir and target.name in NOT_DOCUMENTS:
        skipped.append(SkippedFile(name, f"a link to {target.name}, which is not a document: not read"))
        return None
    return FolderDocument(name, path, target, _identity(info), info.st_size)


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _not_a_file(mode: int, link: str) -> str:
    """Why an entry that is not a regular file is skipped; ``link``: "a link to " or ""."""
    if stat.S_ISDIR(mode):
        return "a link to a folder: not followed" if link else "a folder: files in sub-folders are not read"
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file")
    return f"{link}{kind}, not a regular file: never opened"


def _read_application_json(directory: Path) -> Application:
    path = directory / APPLICATION_FILE
    try:
        text = _read_small_file(path, MAX_APPLICATION_JSON_BYTES).decode("utf-8")
        raw: Any = json.loads(text)
    except FileNotFoundError:
        raise ApplicationInvalid(
            f"application.json is missing: it must hold {APPLICATION_KEYS}", path=str(directory)
        ) from None
    except _NotAFile:
        raise ApplicationInvalid("application.json is not a file", path=str(path)) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ApplicationInvalid(f"cannot read application.json: {exc}", path=str(path)) from exc
    except RecursionError:
        raise ApplicationInvalid("cannot read application.json: it is nested too deeply", path=str(path)) from None
    if not isinstance(raw, dict):
        raise ApplicationInvalid(
            f"application.json must hold one JSON object {{...}} with {APPLICATION_KEYS}, "
            f"not {_json_kind(raw)}",
            path=str(path),
        )
    try:
        application = Application.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        raise ApplicationInvalid(f"application.json is invalid: {problems}", path=str(path)) from exc
    try:
        check_folder_application(application, local_date())
    except ApplicationInvalid as exc:
        raise ApplicationInvalid(f"application.json is invalid: {exc}", path=str(path), errors=exc.errors) from None
    return application


class _NotAFile(Exception):
    pass


def _read_small_file(path: Path, max_bytes: int) -> bytes:
    """A regular file's bytes (a link to one is followed: application.json is the operator's own);
    a FIFO or device is refused before it is opened, and opened without blocking if it became one."""
    if not stat.S_ISREG(path.stat().st_mode):
        raise _NotAFile
    fd = os.open(path, os.O_RDONLY | _O_CLOEXEC | _O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _NotAFile
        data = os.read(fd, max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise ValueError(f"it is larger than {max_bytes // 1024} KB")
    return data


def _json_kind(value: object) -> str:
    kinds = {list: "a list", str: "a string", bool: "true or false", int: "a number", float: "a number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)
