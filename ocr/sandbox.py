"""PDF parsing and rendering in a child process, within a memory budget and a time budget per document.

A PDF of a few KB whose form XObjects draw each other in a fan-out makes pypdfium2 and pdfminer
build k**n objects and grow by hundreds of MB a second, so everything that parses a PDF (opening it
with pypdfium2, reading text layers with pdfplumber, rendering pages to pixels) runs in a child, and
only page sizes, judged text layers and page images come back. Memory: after importing its libraries
the child sets ``RLIMIT_AS`` (soft and hard) to its own address space plus
``OcrOptions.parse_memory_mb``, so the kernel refuses whatever allocation goes past it, whichever
library asks; the library's MemoryError (reported, then the child exits) or abort (SIGABRT) ends
the child. Time: the parent waits at most ``parse_timeout_seconds`` in all for the child's answers
on one document (time it spends on OCR meanwhile is not counted), then kills it; each request also
sets ``RLIMIT_CPU`` in the child, so a child whose parent is gone cannot run on. Over either budget
the document fails for good with ``DocumentTooComplex`` ("too_complex": an ``OcrError``, so the
pre-screener records a failed document and no job is retried), its English detail naming the
budget; the next document gets a fresh child. The child is a new interpreter (``python -c``: fork and
exec at once like the "spawn" start method, so no copy of onnxruntime's threads, and the parent's
``__main__`` is not re-imported), started on first use (~0.7 s, ``warm_up`` to do it earlier) and
kept warm between documents; it is replaced when it dies, runs over, has grown past half its budget
or has served ``max_documents``. Measured by ``bench/bench_sandbox.py`` on a warm child (2 cores):
~2 ms a document, ~3 ms for each text-layer page image (6.5 MB) and ~10-19 ms for each 200-dpi
scanned page (8.5 MB over a socket; the child draws the next page while this one is OCR'd), against
~1 s a page of OCR; counting the pages of an upload, 0.2 ms.

    with open_document(data, max_pages=50, budget=ParseBudget.of(options), text_layers=True) as doc:
        for page, image in zip(doc.pages, doc.render([(p.index, 2.0) for p in doc.pages]), strict=True):
            ...
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ocr import errors
from ocr.errors import DocumentTooComplex, OcrEngineError, OcrError

if TYPE_CHECKING:
    import numpy as np

    from ocr.options import OcrOptions
    from ocr.pdf import PdfPageInfo

log = logging.getLogger(__name__)

_START_TIMEOUT = 60.0  # seconds for a child to import its libraries and say it is ready
_EXIT_MEMORY = 75  # the child's exit status after a MemoryError it could not report
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])
# The child's entry point; its arguments are the socket's file descriptor and the memory budget.
_CHILD_CODE = "import sys; from ocr.sandbox import _child_main; _child_main(int(sys.argv[1]), int(sys.argv[2]))"


@dataclass(frozen=True)
class ParseBudget:
    """What one document may cost the PDF libraries: address space over the child's own, and the
    time the reader waits for them in all."""

    memory_mb: int = 1024
    timeout_seconds: float = 60.0

    @classmethod
    def of(cls, options: OcrOptions) -> ParseBudget:
        return cls(memory_mb=options.parse_memory_mb, timeout_seconds=options.parse_timeout_seconds)


# --- the parent's side ------------------------------------------------------------------------------


class _ChildGone(Exception):
    """The child's connection broke; ``exitcode`` is how it ended."""

    def __init__(self, exitcode: int | None) -> None:
        self.exitcode = exitcode
        super().__init__(f"PDF sandbox child ended with {exitcode}")


class _Child:
    """One child process and the parent's end of its socket."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.documents = 0
        parent_sock, child_sock = socket.socketpair()
        env = dict(os.environ)
        # No thread pools in the child: BLAS/OpenMP threads would only reserve address space.
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        # Page bitmaps (~10 MB each) from the heap, not a fresh mmap each: a third less render time.
        env.setdefault("MALLOC_MMAP_THRESHOLD_", str(128 << 20))
        env.setdefault("MALLOC_TRIM_THRESHOLD_", str(256 << 20))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD_CODE, str(child_sock.fileno()), str(memory_mb)],
                pass_fds=(child_sock.fileno(),),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal is the parent's to handle
            )
        except OSError as exc:
            parent_sock.close()
            raise OcrEngineError(f"cannot start the PDF sandbox: {exc}") from exc
        finally:
            child_sock.close()
        self.conn = Connection(parent_sock.detach())
        try:
            if not self.conn.poll(_START_TIMEOUT):
                raise OcrEngineError(f"the PDF sandbox did not start within {_START_TIMEOUT:g} s")
            hello = self.conn.recv()
        except (EOFError, OSError) as exc:
            self.kill()
            raise OcrEngineError(f"the PDF sandbox exited at start ({self.proc.poll()})") from exc
        except OcrEngineError:
            self.kill()
            raise
        if hello[0] != "ready":
            self.kill()
            raise OcrEngineError(f"the PDF sandbox could not start: {hello[1]}")
        self.limit_bytes: int = hello[2]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ping(self) -> bool:
        """Whether an idle child still answers (~0.1 ms): one that died idle is no document's fault."""
        try:
            self.send(("ping", 5.0))
            reply = self.recv(5.0)
        except _ChildGone:
            return False
        return reply is not None and reply[0] == "ok"

    def send(self, message: tuple[Any, ...]) -> None:
        try:
            self.conn.send(message)
        except OSError as exc:
            raise _ChildGone(self._exitcode()) from exc

    def recv(self, timeout: float) -> tuple[Any, ...] | None:
        """The next message, or None if none came within ``timeout`` seconds."""
        try:
            if not self.conn.poll(max(timeout, 0.0)):
                return None
            reply: tuple[Any, ...] = self.conn.recv()
            return reply
        except (EOFError, OSError) as exc:
            raise _ChildGone(self._exitcode()) from exc

    def recv_into(self, buffer: Any) -> None:
        try:
            self.conn.recv_bytes_into(buffer)
        except (EOFError, OSError) as exc:
            raise _ChildGone(self._exitcode()) from exc

    def _exitcode(self) -> int | None:
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        with contextlib.suppress(OSError):
            self.conn.close()

    def close(self) -> None:
        """Let the child end on its own: it exits when its socket closes."""
        with contextlib.suppress(OSError):
            self.conn.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()


class PdfSandbox:
    """Children with one memory budget: a warm one reused between documents, more when documents
    are read at the same time (threads of the API process), at most ``max_idle`` kept."""

    def __init__(self, memory_mb: int, *, max_idle: int = 2, max_documents: int = 200) -> None:
        self.memory_mb = memory_mb
        self.max_idle = max_idle
        self.max_documents = max_documents
        self._idle: list[_Child] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _acquire(self) -> _Child:
        while True:
            with self._lock:
                if self._pid != os.getpid():  # a fork of the process that started them: not ours
                    self._idle, self._pid = [], os.getpid()
                child = self._idle.pop() if self._idle else None
            if child is None:
                return _Child(self.memory_mb)
            if child.ping():
                return child
            child.kill()

    def _release(self, child: _Child) -> None:
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < self.max_idle and child.alive():
                self._idle.append(child)
                return
        child.close()

    @contextlib.contextmanager
    def session(self, timeout_seconds: float) -> Iterator[PdfSession]:
        """One document's conversation with a child, within ``timeout_seconds`` of waiting."""
        child = self._acquire()
        session = PdfSession(child, self.memory_mb, timeout_seconds)
        failed = True
        try:
            yield session
            failed = False
        finally:
            if session.end(failed=failed) and child.documents < self.max_documents:
                self._release(child)
            else:
                child.kill() if child.alive() else child.close()

    def shutdown(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for child in idle:
            child.close()


class PdfSession:
    """The requests of one document to one child; every wait counts against the time budget."""

    def __init__(self, child: _Child, memory_mb: int, timeout_seconds: float) -> None:
        self.child = child
        self.memory_mb = memory_mb
        self.timeout_seconds = timeout_seconds
        self.left = timeout_seconds
        self.pages: list[PdfPageInfo] = []
        self._pending = 0  # requests sent whose answers have not been read
        self._open = False  # the child holds this document open
        self._broken = False  # the child is dead or in an unknown state: never reuse it

    # -- requests ---------------------------------------------------------------------------------

    def count_pages(self, data: bytes, max_pages: int) -> int:
        """The number of pages (refusing encrypted, malformed and over-long files), pages not parsed."""
        n: int = self._call(("count", data, max_pages))[1]
        return n

    def open(
        self, data: bytes, max_pages: int, *, text_layers: bool, max_image_pixels: int | None = None
    ) -> list[PdfPageInfo]:
        """Open the document in the child: every page's size and, with ``text_layers``, its judged
        text layer, its pages parsed and checked (form nesting, images over ``max_image_pixels``)."""
        self.pages = self._call(("open", data, max_pages, text_layers, max_image_pixels))[1]
        self._open = True
        self.child.documents += 1
        return self.pages

    def render(self, requests: Sequence[tuple[int, float]], *, max_pixels: int | None = None) -> Iterator[np.ndarray]:
        """Pages (index, scale) as BGR images, in order; the child draws the next page while the
        caller works on this one."""
        if not requests:
            return
        self._send(("render", *requests[0], max_pixels))
        for i in range(len(requests)):
            header = self._reply()
            if i + 1 < len(requests):
                self._send(("render", *requests[i + 1], max_pixels))
            yield self._image(header)

    # -- plumbing ---------------------------------------------------------------------------------

    def _call(self, message: tuple[Any, ...]) -> tuple[Any, ...]:
        self._send(message)
        return self._reply()

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            self.child.send((*message, self.left))
        except _ChildGone as gone:
            self._broken = True
            raise self._died(gone.exitcode) from gone
        self._pending += 1

    def _reply(self) -> tuple[Any, ...]:
        started = time.monotonic()
        try:
            reply = self.child.recv(self.left)
        except _ChildGone as gone:
            self._broken = True
            raise self._died(gone.exitcode) from gone
        finally:
            self.left -= time.monotonic() - started
        if reply is None:
            self._broken = True
            self.child.kill()
            raise DocumentTooComplex(
                f"over the time budget: the PDF reader took more than {self.timeout_seconds:g} s (killed)"
            )
        self._pending -= 1
        kind = reply[0]
        if kind in ("ok", "image"):
            return reply
        if kind == "error":
            raise _load_error(reply[1], reply[2], reply[3])
        self._broken = True
        if kind == "too_complex":
            raise DocumentTooComplex(reply[1])
        raise RuntimeError(f"the PDF sandbox failed:\n{reply[1]}")

    def _image(self, header: tuple[Any, ...]) -> np.ndarray:
        import numpy as np

        image = np.empty(header[1], dtype=np.uint8)
        try:
            self.child.recv_into(image.reshape(-1))
        except _ChildGone as gone:
            self._broken = True
            raise self._died(gone.exitcode) from gone
        return image

    def _died(self, exitcode: int | None) -> Exception:
        """What the child's end means: killed by a signal (the libraries abort when the kernel refuses
        memory past the limit) or out of memory is the document's doing; anything else is ours."""
        budget = f"the memory budget of {self.memory_mb} MB"
        if exitcode is not None and exitcode < 0:
            try:
                sig = signal.Signals(-exitcode).name
            except ValueError:
                sig = f"signal {-exitcode}"
            if -exitcode == signal.SIGXCPU:
                return DocumentTooComplex(f"over the time budget: the PDF reader used {self.timeout_seconds:g} s "
                                          f"of CPU (killed by {sig})")
            return DocumentTooComplex(f"over {budget}: the PDF reader was killed by {sig}")
        if exitcode == _EXIT_MEMORY:
            return DocumentTooComplex(f"over {budget}: the PDF reader ran out of memory")
        return RuntimeError(f"the PDF sandbox ended with status {exitcode} while reading a document")

    def end(self, *, failed: bool = False) -> bool:
        """Finish the conversation; whether the child can serve another document. After an
        exception (a job timeout, an OCR error) a child still drawing a page is not waited for."""
        if self._broken or (failed and self._pending):
            return False
        try:
            while self._pending:  # a render the caller did not wait for (it stopped early)
                header = self._reply()
                if header[0] == "image":
                    self._image(header)
            if self._open:
                rss = self._call(("close",))[1]
                self._open = False
                if rss is not None and rss > self.memory_mb * 1024 * 1024 // 2:
                    return False  # grown: a fresh child for the next document
        except Exception:  # over budget or dead while finishing: the caller already has its answer
            log.debug("PDF sandbox child dropped while closing a document", exc_info=True)
            return False
        return not self._broken and self.child.alive()


_sandboxes: dict[int, PdfSandbox] = {}
_sandboxes_lock = threading.Lock()


def get_sandbox(memory_mb: int) -> PdfSandbox:
    """The process's sandbox for this memory budget (children are kept per budget)."""
    with _sandboxes_lock:
        box = _sandboxes.get(memory_mb)
        if box is None:
            box = _sandboxes[memory_mb] = PdfSandbox(memory_mb)
        return box


@contextlib.contextmanager
def open_document(
    data: bytes, *, max_pages: int, budget: ParseBudget, text_layers: bool, max_image_pixels: int | None = None
) -> Iterator[PdfSession]:
    """The PDF opened in a sandbox child: ``.pages`` then ``.render(...)``; raises ``OcrError``s
    (``DocumentTooComplex`` over a budget), ``OcrEngineError`` if no child can start."""
    with get_sandbox(budget.memory_mb).session(budget.timeout_seconds) as session:
        session.open(data, max_pages, text_layers=text_layers, max_image_pixels=max_image_pixels)
        yield session


def count_pages(data: bytes, *, max_pages: int, budget: ParseBudget) -> int:
    """The page count of a PDF, read in a sandbox child (no page is parsed)."""
    with get_sandbox(budget.memory_mb).session(budget.timeout_seconds) as session:
        return session.count_pages(data, max_pages)


def warm_up(budget: ParseBudget) -> None:
    """Start a child now (~0.7 s: its imports) rather than in the first PDF; for a worker's start."""
    with get_sandbox(budget.memory_mb).session(budget.timeout_seconds):
        pass


def shutdown() -> None:
    """End the idle children (they also end by themselves when this process exits)."""
    with _sandboxes_lock:
        boxes = list(_sandboxes.values())
    for box in boxes:
        box.shutdown()


atexit.register(shutdown)


# --- errors across the process boundary -------------------------------------------------------------

_ERROR_ATTRS = ("pages", "max_pages", "pixels", "max_pixels")


def _dump_error(exc: OcrError) -> tuple[str, str, dict[str, Any]]:
    return type(exc).__name__, exc.detail, {a: getattr(exc, a) for a in _ERROR_ATTRS if hasattr(exc, a)}


def _load_error(name: str, detail: str, attrs: dict[str, Any]) -> OcrError:
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, OcrError)):
        return errors.CorruptFile(detail)
    err: OcrError = cls(detail, **attrs)
    return err


# --- the child's side -------------------------------------------------------------------------------


def _child_main(fd: int, memory_mb: int) -> None:
    """Serve requests on socket ``fd`` until it closes, within ``memory_mb`` MB over its start."""
    import resource

    conn = Connection(fd)
    try:
        import numpy  # noqa: F401
        import pdfplumber  # noqa: F401  (imported before the limit: the libraries are not the document)
        import pypdfium2  # noqa: F401

        from ocr import pdf

        base = pdf.address_space_bytes() or 0
        limit = base + memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:  # already limited from outside (a container, a test)
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort must not write a 1 GB core file
    except BaseException as exc:
        conn.send(("failed", repr(exc)))
        raise
    conn.send(("ready", os.getpid(), limit))

    state: dict[str, Any] = {"doc": None}

    def close_doc() -> None:
        if state["doc"] is not None:
            state["doc"].close()
            state["doc"] = None

    def handle(message: tuple[Any, ...]) -> tuple[tuple[Any, ...], np.ndarray | None]:
        kind = message[0]
        if kind == "count":
            doc = pdf.open_pdf(message[1], message[2])
            try:
                return ("ok", len(doc)), None
            finally:
                doc.close()
        if kind == "open":
            close_doc()
            data, max_pages, text_layers, max_pixels = message[1:5]
            doc = state["doc"] = pdf.open_pdf(data, max_pages)
            if not text_layers:  # sizes from the page dictionaries; pages are parsed when drawn
                return ("ok", [pdf.PdfPageInfo(i, *doc.get_page_size(i)) for i in range(len(doc))]), None
            try:
                # pypdfium2 parses a page's whole content when it loads it: a fan-out ends here, fast,
                # before pdfminer (which grows far slower) would spend the time budget on it.
                pages = [pdf.PdfPageInfo(i, *pdf.load_page(doc, i, max_image_pixels=max_pixels))
                         for i in range(len(doc))]
                layers = pdf.read_text_layers(data, len(doc), lambda i, s: pdf.render_page(doc, i, s),
                                              max_image_pixels=max_pixels)
            except BaseException:
                close_doc()  # refused: the parent will not ask to draw it
                raise
            for info, layer in zip(pages, layers, strict=True):
                info.layer = layer
            return ("ok", pages), None
        if kind == "render":
            index, scale, max_pixels = message[1:4]
            image = pdf.render_page(state["doc"], index, scale, max_pixels=max_pixels)
            return ("image", image.shape), image
        if kind == "ping":
            return ("ok", None), None
        if kind == "close":
            close_doc()
            return ("ok", pdf.resident_bytes()), None
        raise ValueError(f"unknown request {kind!r}")

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        # A backstop for a parent that is gone: CPU seconds for this request, then SIGXCPU.
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu = math.ceil(used.ru_utime + used.ru_stime + max(float(message[-1]), 0.0)) + 2
        _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
        if cpu_hard != resource.RLIM_INFINITY:
            cpu = min(cpu, cpu_hard)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu_hard))
        image = None
        try:
            reply, image = handle(message[:-1])
        except MemoryError as exc:
            _child_out_of_memory(conn, memory_mb, exc)
        except OcrError as exc:
            reply = ("error", *_dump_error(exc))
        except Exception as exc:
            if pdf.near_address_space_limit():
                _child_out_of_memory(conn, memory_mb, exc)
            reply = ("bug", traceback.format_exc())
        try:
            conn.send(reply)
            if image is not None:
                conn.send_bytes(image.reshape(-1).data)
        except MemoryError as exc:
            _child_out_of_memory(conn, memory_mb, exc)
        except (OSError, pickle.PicklingError):
            return
        del image


def _child_out_of_memory(conn: Connection, memory_mb: int, exc: BaseException) -> NoReturn:
    """Report the document over its memory budget and end: the heap is in no state to go on."""
    try:
        conn.send(("too_complex", f"over the memory budget of {memory_mb} MB: {type(exc).__name__}"))
    finally:
        os._exit(_EXIT_MEMORY)
