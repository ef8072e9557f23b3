"""Build or refresh a repository's index: discover, extract what changed, link, store.

A file is re-extracted only when its size or modification time moved *and* its content hash (the git blob
id) changed, or when the extractor itself changed. Linking runs over every file's facts, but only when
something changed: a refresh of an unchanged tree reads the file list, compares stat data, and stops.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import semlease
from semlease import languages
from semlease.adapters import git
from semlease.adapters.discover import SourceFile, discover
from semlease.adapters.index_store import ExtractedFile, FileState, IndexStore
from semlease.domain.facts import FileFacts
from semlease.domain.graph import SymbolGraph
from semlease.languages.queries import load_query

Progress = Callable[[str, int, int], None]  # (phase, done, total); total 0 while a phase cannot count

_PARALLEL_THRESHOLD = 64  # below this, worker start-up costs more than it saves
_CHUNK = 32


@dataclass(frozen=True)
class IndexReport:
    root: str
    index_path: str
    head: str | None
    files: int
    extracted: int
    reused: int
    removed: int
    skipped: tuple[tuple[str, str], ...]
    syntax_error_files: tuple[tuple[str, int], ...]
    counts: dict[str, int] = field(default_factory=dict)
    up_to_date: bool = False
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase


def index_location(root: Path) -> Path:
    """Where a repository's index lives: inside its git directory, else `.semlease/` in the folder.

    A folder indexed on its own inside a larger work tree (a sample repository, a vendored package)
    gets its own file, named after its place in the work tree. Where that place cannot be written (a
    read-only checkout), the index goes to the user's cache folder instead, keyed by the repository path.
    """
    preferred = _preferred_location(root)
    if _writable(preferred.parent):
        return preferred
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "semlease"
    key = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
    return cache / f"{root.resolve().name}-{key}" / preferred.name


def _preferred_location(root: Path) -> Path:
    gdir = git.git_dir(root)
    if gdir is None:
        return root / ".semlease" / "index.db"
    top = git.find_worktree_root(root)
    rel = root.resolve().relative_to(top.resolve()) if top is not None else Path(".")
    if str(rel) in ("", "."):
        return gdir / "semlease" / "index.db"
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in rel.as_posix())[:60]
    digest = hashlib.sha1(rel.as_posix().encode()).hexdigest()[:8]  # `a/b_c` and `a_b/c` differ
    return gdir / "semlease" / f"index-{slug}-{digest}.db"


def _writable(folder: Path) -> bool:
    """Can `folder` be created (if missing) and written? Judged on the nearest folder that exists."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return os.access(probe, os.W_OK)


def extractor_fingerprint() -> str:
    """Changes whenever an extractor's code or query files change, invalidating cached facts."""
    h = hashlib.sha1(semlease.__version__.encode())
    for language in languages.LANGUAGES:
        h.update(language.name.encode())
        spec = importlib.util.find_spec(language.extractor.partition(":")[0])
        if spec is not None and spec.origin:
            h.update(Path(spec.origin).read_bytes())
        for name in language.query_files:
            h.update(load_query(language.name, name).encode())
    return h.hexdigest()


def build_index(root: Path, *, progress: Progress | None = None, force: bool = False,
                workers: int | None = None, with_counts: bool = True) -> IndexReport:
    """Refresh the index of `root`. `with_counts=False` skips counting what the index holds (a scan of
    every table) when the caller only needs the index to be fresh."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    clock = _Clock(timings)
    location = index_location(root)
    discovery = discover(root, extensions=languages.all_extensions())
    head = git.head_commit(root)
    fingerprint = extractor_fingerprint()
    clock.lap("discover")
    with IndexStore.open(location) as store:
        if store.meta("extractor") != fingerprint:
            force = True
        stored = store.file_states()
        previous = {} if force else stored
        current = {f.path: f for f in discovery.files}
        removed = [p for p in stored if p not in current]
        unchanged: list[str] = []
        touched: list[FileState] = []
        to_extract: list[SourceFile] = []
        for f in discovery.files:
            old = previous.get(f.path)
            if old is not None and old.size == f.size and old.mtime_ns == f.mtime_ns:
                unchanged.append(f.path)
            else:
                to_extract.append(f)
        skipped = list((s.path, s.reason) for s in discovery.skipped)
        extracted: list[ExtractedFile] = []
        for item in _extract_all(to_extract, previous, progress, workers):
            if isinstance(item, FileState):
                touched.append(item)  # same content, new stat data
                unchanged.append(item.path)
            elif isinstance(item, ExtractedFile):
                extracted.append(item)
            else:
                skipped.append(item)
                if item[0] in stored:
                    removed.append(item[0])  # was indexed, cannot be read now
        clock.lap("extract")
        nothing_changed = not extracted and not removed and store.is_built() and not force
        meta = {"root": str(root), "head": head or "", "extractor": fingerprint,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds")}
        graph = None
        with _cycle_collector_paused():
            if not nothing_changed or not store.is_built():
                facts: dict[str, FileFacts] = store.load_facts(unchanged) if unchanged else {}
                facts.update({e.state.path: e.facts() for e in extracted})
                clock.lap("load")
                if progress:
                    progress("linking", 0, 0)
                graph = link(facts)
                clock.lap("link")
                if progress:
                    progress("writing the index", 0, 0)
            else:
                meta.pop("built_at")
            store.save(meta=meta, changed=extracted, touched=touched, removed=removed,
                       skipped=skipped, graph=graph)
        clock.lap("save")
        return IndexReport(
            root=str(root), index_path=str(location), head=head, files=len(unchanged) + len(extracted),
            extracted=len(extracted), reused=len(unchanged), removed=len(removed),
            skipped=tuple(sorted(skipped)),
            syntax_error_files=tuple(store.files_with_syntax_errors()) if with_counts else (),
            counts=store.counts() if with_counts else {}, up_to_date=graph is None,
            seconds=time.perf_counter() - started, timings=timings)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Decoding facts, linking and writing build a million small objects and no reference cycles; the
    cycle collector would walk them again and again for nothing (measured: 1.1 s of 3.1 s of load and
    link on the standard library). Reference counting still frees everything; the collector is back on
    afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Clock:
    def __init__(self, into: dict[str, float]) -> None:
        self.into = into
        self.last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.into[phase] = round(self.into.get(phase, 0.0) + now - self.last, 3)
        self.last = now


def link(facts: dict[str, FileFacts]) -> SymbolGraph:
    graph = SymbolGraph()
    for language in languages.LANGUAGES:
        mine = {p: f for p, f in facts.items() if f.language == language.name}
        if mine:
            language.link(mine, graph)
    return graph


def _extract_all(files: list[SourceFile], previous: dict[str, FileState], progress: Progress | None,
                 workers: int | None):
    jobs = [(f.path, str(f.abs_path), f.size, f.mtime_ns, previous.get(f.path)) for f in files]
    total = len(jobs)
    if progress:
        progress("extracting", 0, total)
    if total < _PARALLEL_THRESHOLD or (workers is not None and workers <= 1):
        for i, job in enumerate(jobs, 1):
            yield _extract_one(job)
            if progress:
                progress("extracting", i, total)
        return
    n = workers or os.cpu_count() or 1
    chunks = [jobs[i:i + _CHUNK] for i in range(0, total, _CHUNK)]
    done = 0
    # multiprocessing.Pool rather than ProcessPoolExecutor: on Ctrl-C, leaving the `with` block calls
    # terminate(), which ends the workers for sure; the executor could hang on a worker blocked on its
    # result pipe. Workers ignore SIGINT so that only this process decides what an interrupt does.
    with multiprocessing.get_context("spawn" if sys.platform == "win32" else "fork").Pool(
            n, initializer=_ignore_sigint) as pool:
        for results in pool.imap(_extract_chunk, chunks):
            yield from results
            done += len(results)
            if progress:
                progress("extracting", done, total)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _extract_chunk(jobs: list[tuple]) -> list:
    return [_extract_one(job) for job in jobs]


def _extract_one(job: tuple):
    """Read and extract one file. Returns ExtractedFile, FileState (content unchanged) or (path, reason)."""
    path, abs_path, size, mtime_ns, old = job
    try:
        data = Path(abs_path).read_bytes()
    except OSError as exc:
        return (path, f"unreadable: {exc.strerror or exc}")
    digest = git.hash_blob(data)  # the git blob id: cached facts line up with git
    language = languages.language_for(path)
    if language is None:
        return (path, "no extractor for this file type")
    state = FileState(path, language.name, digest, size, mtime_ns)
    if old is not None and old.digest == digest and old.language == language.name:
        return state
    try:
        facts = language.extract(path, data)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the index; it is reported
        return (path, f"extractor failed: {type(exc).__name__}: {exc}")
    return ExtractedFile.of(state, facts)
