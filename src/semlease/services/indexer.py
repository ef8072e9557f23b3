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
import posixpath
import re
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import semlease
from semlease import languages
from semlease.adapters import facts_codec, git
from semlease.adapters.discover import BINARY_PROBE_BYTES, SourceFile, discover
from semlease.adapters.facts_cache import CachedFacts, FactsCache
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
    relinked: int | None = None  # files linked again: None when nothing was, -1 when every file was


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


def extractor_fingerprint(language: languages.LanguageSupport | None = None) -> str:
    """Changes whenever an extractor's code or query files change, invalidating what it produced: one
    language's, or (``language`` None) every language's."""
    h = hashlib.sha1(f"{semlease.__version__} facts {facts_codec.FORMAT}".encode())
    for lang in (language,) if language is not None else languages.LANGUAGES:
        h.update(lang.name.encode())
        spec = importlib.util.find_spec(lang.extractor.partition(":")[0])
        if spec is not None and spec.origin:
            h.update(Path(spec.origin).read_bytes())
        for name in lang.query_files:
            h.update(load_query(lang.name, name).encode())
    return h.hexdigest()


def linker_fingerprint(language: languages.LanguageSupport) -> str:
    """Changes whenever a language's linker changes: the stored graph is then linked again from the stored
    facts (nothing is extracted again)."""
    h = hashlib.sha1(f"{semlease.__version__} link".encode())
    spec = importlib.util.find_spec(language.linker.partition(":")[0])
    if spec is not None and spec.origin:
        h.update(Path(spec.origin).read_bytes())
    return h.hexdigest()


def facts_cache_location(root: Path) -> Path:
    """The extraction cache every worktree of the repository shares: in the common git directory."""
    common = git.git_common_dir(root)
    preferred = (common / "semlease" / "facts.db") if common is not None else index_location(root).parent / "facts.db"
    if _writable(preferred.parent):
        return preferred
    return index_location(root).parent / "facts.db"


def build_index(root: Path, *, progress: Progress | None = None, force: bool = False,
                workers: int | None = None, with_counts: bool = True) -> IndexReport:
    """Refresh the index of `root`. `with_counts=False` skips counting what the index holds (a scan of
    every table) when the caller only needs the index to be fresh."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    clock = _Clock(timings)
    location = index_location(root)
    head = git.head_commit(root)
    prints = {lang.name: extractor_fingerprint(lang) for lang in languages.LANGUAGES}
    link_prints = {lang.name: linker_fingerprint(lang) for lang in languages.LANGUAGES}
    with IndexStore.open(location) as store:
        if not store.is_built() and not force:
            _seed_from_a_sibling(store, location, root)
            clock.lap("seed")
        stale = {name for name, fp in prints.items() if store.meta(f"extractor.{name}") != fp}
        relink_all = any(store.meta(f"linker.{name}") != fp for name, fp in link_prints.items())
        stored = store.file_states()
        discovery = discover(root, extensions=languages.all_extensions(), known=() if force else stored)
        clock.lap("discover")
        previous = {p: st for p, st in stored.items() if not force and st.language not in stale}
        current = {f.path: f for f in discovery.files}
        removed = [p for p in stored if p not in current]
        unchanged: list[str] = []
        touched: list[FileState] = []
        to_check: list[SourceFile] = []
        for f in discovery.files:
            old = previous.get(f.path)
            if old is not None and old.size == f.size and old.mtime_ns == f.mtime_ns:
                unchanged.append(f.path)
            else:
                to_check.append(f)
        skipped = list((s.path, s.reason) for s in discovery.skipped)
        extracted, hashed = _fresh_facts(root, to_check, previous, prints, progress, workers, skipped, touched,
                                         unchanged, clock, use_cache=not force)
        for path, _ in skipped:
            if path in stored and path not in removed:
                removed.append(path)  # was indexed, cannot be read now
        added = [e.state.path for e in extracted if e.state.path not in stored]
        nothing_changed = (not extracted and not removed and store.is_built() and not force and not stale
                           and not relink_all)
        meta = {"root": str(root), "head": head or "", "extractor": extractor_fingerprint(),
                "built_at": datetime.now(UTC).isoformat(timespec="microseconds"),  # also names the build
                **{f"extractor.{name}": fp for name, fp in prints.items()},
                **{f"linker.{name}": fp for name, fp in link_prints.items()}}
        graph = None
        reads: dict[str, set[str]] = {}
        relinked: set[str] | None = None
        with _cycle_collector_paused():
            if nothing_changed:
                meta.pop("built_at")
            else:
                found = None
                if (store.is_built() and not force and not stale and not relink_all
                        and _same_layout(stored, current, removed, added)):
                    if progress:
                        progress("linking", 0, 0)
                    found = relink(store, extracted, removed, most=max(len(current) // _RELINK_SHARE, _RELINK_FLOOR))
                if found is not None:
                    graph, reads, relinked = found
                    clock.lap("link")
                else:
                    facts: dict[str, FileFacts] = store.load_facts(unchanged) if unchanged else {}
                    facts.update({e.state.path: e.facts() for e in extracted})
                    clock.lap("load")
                    if progress:
                        progress("linking", 0, 0)
                    graph, reads = link(facts)
                    clock.lap("link")
            if progress and graph is not None:
                progress("writing the index", 0, 0)
            store.save(meta=meta, changed=extracted, touched=touched, removed=removed, skipped=skipped,
                       graph=graph, reads=reads, relinked=None if relinked is None else relinked | set(removed))
        clock.lap("save")
        return IndexReport(
            root=str(root), index_path=str(location), head=head, files=len(unchanged) + len(extracted),
            extracted=len(extracted) - hashed, reused=len(unchanged) + hashed, removed=len(removed),
            skipped=tuple(sorted(skipped)),
            syntax_error_files=tuple(store.files_with_syntax_errors()) if with_counts else (),
            counts=store.counts() if with_counts else {}, up_to_date=graph is None,
            seconds=time.perf_counter() - started, timings=timings,
            relinked=len(relinked) if relinked is not None else (None if graph is None else -1))


def _fresh_facts(root: Path, files: list[SourceFile], previous: dict[str, FileState], prints: dict[str, str],
                 progress: Progress | None, workers: int | None, skipped: list, touched: list[FileState],
                 unchanged: list[str], clock: _Clock, *, use_cache: bool = True) -> tuple[list[ExtractedFile], int]:
    """Facts of the files whose stat data moved: the same content keeps its facts (new stat data only),
    content the shared cache knows is taken from it (unless ``use_cache`` is off: ``index --force``
    extracts everything again), the rest is extracted in worker processes (and added to the cache).
    Returns the new facts and how many of them came from the cache."""
    extracted: list[ExtractedFile] = []
    misses: list[tuple[SourceFile, str, str]] = []  # (file, language, digest)
    known: dict[str, list[tuple[SourceFile, str]]] = {}  # language -> [(file, digest)] to look up
    if progress:
        progress("hashing", 0, len(files))
    for i, f in enumerate(files, 1):
        language = languages.language_for(f.path)
        try:
            data = f.abs_path.read_bytes()
        except OSError as exc:
            skipped.append((f.path, f"unreadable: {exc.strerror or exc}"))
            continue
        if language is None:
            skipped.append((f.path, "no extractor for this file type"))
            continue
        if b"\0" in data[:BINARY_PROBE_BYTES]:  # discover probes new files; a file it knew is probed here
            skipped.append((f.path, "binary"))
            continue
        digest = git.hash_blob(data)  # the git blob id: cached facts line up with git
        old = previous.get(f.path)
        if old is not None and old.digest == digest and old.language == language.name:
            touched.append(FileState(f.path, language.name, digest, f.size, f.mtime_ns))  # same content
            unchanged.append(f.path)
        else:
            known.setdefault(language.name, []).append((f, digest))
        if progress and i % 256 == 0:
            progress("hashing", i, len(files))
    clock.lap("hash")
    hits = 0
    with _open_cache(root) as cache:
        for name, pending in known.items():
            found = cache.get(name, prints[name], [d for _, d in pending]) if cache is not None and use_cache else {}
            for f, digest in pending:
                entry = found.get(digest)
                if entry is None:
                    misses.append((f, name, digest))
                    continue
                hits += 1
                extracted.append(ExtractedFile(FileState(f.path, name, digest, f.size, f.mtime_ns), entry.data,
                                               entry.line_count, entry.syntax_errors, entry.notes, entry.interface))
        clock.lap("cache")
        new = []
        for item in _extract_all([f for f, _, _ in misses], progress, workers):
            if isinstance(item, ExtractedFile):
                new.append(item)
            else:
                skipped.append(item)
        extracted += new
        if cache is not None:
            by_language: dict[str, list] = {}
            for e in new:
                by_language.setdefault(e.state.language, []).append(
                    (e.state.digest, CachedFacts(e.data, e.line_count, e.syntax_errors, e.notes, e.interface)))
            for name, entries in by_language.items():
                cache.put(name, prints[name], entries)
        clock.lap("extract")
    return extracted, hits


@contextmanager
def _open_cache(root: Path) -> Iterator[FactsCache | None]:
    cache = FactsCache.open(facts_cache_location(root))
    try:
        yield cache
    finally:
        if cache is not None:
            cache.close()


def _seed_from_a_sibling(store: IndexStore, location: Path, root: Path) -> None:
    """A new worktree starts from the index of another worktree of the same repository (the same folder
    in it): what they share needs no extraction and no linking, only new stat data."""
    common = git.git_common_dir(root)
    if common is None:
        return
    siblings = sorted((common / "worktrees").glob(f"*/semlease/{location.name}"))
    candidates = [common / "semlease" / location.name, *siblings]
    for candidate in candidates:
        if candidate == location or not candidate.is_file():
            continue
        if store.copy_from(candidate):
            return


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


def link(facts: dict[str, FileFacts]) -> tuple[SymbolGraph, dict[str, set[str]]]:
    """Link every file; also returns, per file, the files its linking read."""
    graph = SymbolGraph()
    reads: dict[str, set[str]] = {}
    for language in languages.LANGUAGES:
        mine = {p: f for p, f in facts.items() if f.language == language.name}
        if mine:
            reads.update(language.link(mine, graph))
    return graph, reads


class _FactsView(Mapping[str, FileFacts]):
    """Every file's facts, decoded from the index when first asked for; the new facts of changed files."""

    def __init__(self, store: IndexStore, paths: Iterable[str], fresh: dict[str, FileFacts]) -> None:
        self.store, self.paths, self.fresh = store, set(paths), dict(fresh)

    def __getitem__(self, path: str) -> FileFacts:
        found = self.fresh.get(path)
        if found is None:
            found = self.store.load_facts([path]).get(path)
            if found is None:
                raise KeyError(path)
            self.fresh[path] = found
        return found

    def __contains__(self, path: object) -> bool:
        return path in self.paths

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.paths))

    def __len__(self) -> int:
        return len(self.paths)


def _same_layout(stored: Mapping[str, FileState], current: Mapping[str, SourceFile], removed: list[str],
                 added: list[str]) -> bool:
    """Whether files added or removed leave every language's module layout as it was (no package, folder or
    import root made or gone): then relinking what read them is exact."""
    if not removed and not added:
        return True
    gone = set(removed)  # a file that cannot be read any more is gone too, though still on disk
    for language in languages.LANGUAGES:
        mine = {p for p in [*removed, *added] if languages.language_for(p) is language}
        if mine:
            before = [p for p, st in stored.items() if st.language == language.name]
            after = [p for p in current if languages.language_for(p) is language and p not in gone]
            if language.module_layout(before) != language.module_layout(after):
                return False
    return True


# Linking a file again costs about three times what it costs in a full link (its neighbours are read from
# the stored graph): beyond a quarter of the files (and a few hundred), linking everything is faster.
_RELINK_SHARE = 4
_RELINK_FLOOR = 200


def _module_names(paths: Iterable[str], by_language: Mapping[str, str]) -> set[str]:
    """The lookups files added or removed at ``paths`` answer (by language, among the files of
    ``by_language``: path -> language)."""
    found: set[str] = set()
    for language in languages.LANGUAGES:
        mine = [p for p in paths if languages.language_for(p) is language]
        if mine:
            found |= language.reads_answered_by(mine, [p for p, name in by_language.items()
                                                       if name == language.name])
    return found


def _under_conftests(paths: Iterable[str], files: Iterable[str]) -> set[str]:
    """Every file under a conftest.py among ``paths``: its fixtures serve them."""
    folders = [posixpath.dirname(p) for p in paths if posixpath.basename(p) == "conftest.py"]
    if not folders:
        return set()
    return {p for p in files if any(not folder or p.startswith(folder + "/") for folder in folders)}


def relink(store: IndexStore, changed: list[ExtractedFile], removed: Iterable[str] = (), *,
           most: int | None = None) -> tuple[SymbolGraph, dict[str, set[str]], set[str]] | None:
    """Link again only what the changed, added and removed files can reach (with the module layout as it
    was: see _same_layout).

    A file whose interface (what other files' linking reads of it) is unchanged is relinked alone.
    Otherwise every file whose last linking read it is relinked too (for a file added, a lookup of a module
    name it bears counts, found or not: that is how it finds the imports it now answers), every file under
    it when it is a conftest.py, and every file with an unresolved use naming a name it now offers. A
    removed file relinks its readers, and every file under it when it was a conftest.py. When relinking changes the kind
    of a node (a class found to be a unittest test case), the readers of its file follow. Returns the graph
    of the relinked files, their reads, and which files they are; None when that is more than ``most``
    files (linking everything is then cheaper)."""
    fresh = {e.state.path: e.facts() for e in changed}
    gone = set(removed)
    stored_languages = store.languages()
    by_language = {p: name for p, name in stored_languages.items() if p not in gone}
    by_language.update({e.state.path: e.state.language for e in changed})
    old_interfaces = store.interfaces(fresh)
    targets = set(fresh)
    widened = [e for e in changed if e.interface != old_interfaces.get(e.state.path)]
    if gone:  # what read a removed file, by its path or by a module name it bore
        targets |= store.dependents(set(gone) | _module_names(gone, stored_languages)) - gone
        targets |= _under_conftests(gone, by_language)
    if widened:
        paths = {e.state.path for e in widened}
        added = [e.state.path for e in changed if e.state.path not in old_interfaces]
        targets |= store.dependents(paths | _module_names(added, by_language)) - gone
        targets |= _under_conftests(paths, by_language)
        old = store.load_facts(paths)
        offered: set[str] = set()
        for e in widened:
            language = languages.by_name(e.state.language)
            before = language.offered_names(old[e.state.path]) if e.state.path in old else set()
            offered |= language.offered_names(fresh[e.state.path]) - before
        if offered:
            for path, text in store.unresolved_texts():
                if path not in gone and offered & set(_WORDS.findall(text)):
                    targets.add(path)
    if most is not None and len(targets) > most:
        return None
    base = store.graph()
    while True:
        graph = SymbolGraph()
        reads: dict[str, set[str]] = {}
        for language in languages.LANGUAGES:
            files = [p for p, name in by_language.items() if name == language.name]
            mine = targets.intersection(files)
            if mine:
                view = _FactsView(store, files, {p: f for p, f in fresh.items() if f.language == language.name})
                reads.update(language.link(view, graph, files=files, targets=mine, base=base))
        moved = {n.path for n in graph.iter_nodes() if (old_node := base.node(n.id)) is not None
                 and old_node.kind != n.kind}
        more = store.dependents(moved) - targets - gone if moved else set()
        if not more:
            return graph, reads, targets
        targets |= more


_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _extract_all(files: list[SourceFile], progress: Progress | None, workers: int | None):
    jobs = [(f.path, str(f.abs_path), f.size, f.mtime_ns) for f in files]
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
    for language in languages.LANGUAGES:  # load the parsers and compile the queries once, before the fork
        language.extract(f"warm-up{min(language.extensions)}", b"x = 1\n")
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
    """Read and extract one file. Returns ExtractedFile or (path, reason)."""
    path, abs_path, size, mtime_ns = job
    try:
        data = Path(abs_path).read_bytes()
    except OSError as exc:
        return (path, f"unreadable: {exc.strerror or exc}")
    language = languages.language_for(path)
    if language is None:
        return (path, "no extractor for this file type")
    state = FileState(path, language.name, git.hash_blob(data), size, mtime_ns)
    try:
        facts = language.extract(path, data)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the index; it is reported
        return (path, f"extractor failed: {type(exc).__name__}: {exc}")
    return ExtractedFile.of(state, facts, language.interface(facts))
