"""How a check report is shown: readable text, JSON, GitHub workflow annotations, SARIF 2.1.0."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from semlease.domain.patch import PatchFootprint
from semlease.services.check import RULES, CheckReport, Finding

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/semlease/"
# GitHub code scanning keeps 5,000 results of a run and rejects a run of more than 25,000: a log past that
# would be refused whole, so the first findings are written and the run says how many were left out.
SARIF_MAX_RESULTS = 5000


def subject(report: CheckReport) -> str:
    if report.lease:
        return f"{report.lease} ({report.owner!r}, {report.mode} {report.region!r})"
    return f"region {report.region!r} as {report.mode}"


def summary(report: CheckReport) -> str:
    patch = report.patch
    counts = f"{_plural(len(patch.symbols), 'symbol')} in {_plural(len(patch.files), 'file')}"
    verdict = "passed" if report.passed else f"FAILED ({_plural(len(report.findings), 'finding')})"
    return f"check {subject(report)} on {patch.source}: {verdict}; {counts} touched"


def text(report: CheckReport) -> str:
    lines = [summary(report)]
    for finding in report.findings:
        lines.append(f"  {finding.rule_id} {finding}")
    if report.inside:
        lines.append("inside the lease:" if report.lease else "inside the region:")
        changes = {s.id: s for s in report.patch.symbols}
        for item in report.inside:
            symbol = changes.get(item.node)
            where = f"  {symbol.path}:{symbol.start_line}" if symbol else ""
            lines.append(f"  {item.node}  {item.change}{where}  ({item.why})")
    return "\n".join(lines)


def patch_text(patch: PatchFootprint) -> str:
    """The patch footprint alone, as a listing."""
    lines = [f"patch {patch.source}: {_plural(len(patch.symbols), 'symbol')} in {_plural(len(patch.files), 'file')}"]
    for touch in patch.files:
        moved = f" (from {touch.old_path})" if touch.old_path and touch.old_path != touch.path else ""
        module = f", outside definitions: lines {_lines(touch.module_lines or touch.old_module_lines)}" if (
            touch.language and (touch.module_lines or touch.old_module_lines)) else ""
        kind = " (binary)" if touch.binary else ""
        lines.append(f"  {touch.status:<8} {touch.path}{kind}{moved}{module}")
    for s in patch.symbols:
        extra = f" (was {s.old_id})" if s.old_id else ""
        contract = "; ".join(str(d) for d in s.contract)
        lines.append(f"    {s.change:<8} {s.id} [{s.kind}] {s.path}:{s.start_line}-{s.end_line}{extra}"
                     + (f"  contract: {contract}" if contract else "")
                     + (f"  ({s.note})" if s.note else ""))
    return "\n".join(lines)


def github(report: CheckReport) -> str:
    """GitHub Actions workflow commands: an error annotation per finding, a notice when it passes."""
    lines = []
    for finding in report.findings:
        props = []
        if finding.path:
            props.append(f"file={_property(finding.path)}")
            if finding.line:
                props.append(f"line={finding.line}")
                if finding.end_line and finding.end_line >= finding.line:
                    props.append(f"endLine={finding.end_line}")
        props.append(f"title={_property(f'semlease {finding.rule_id}: {RULES[finding.rule][1]}')}")
        lines.append(f"::error {','.join(props)}::{_data(finding.message)}")
    if report.passed:
        lines.append(f"::notice title=semlease::{_data(summary(report))}")
    else:
        lines.append(f"::error title=semlease::{_data(summary(report))}")
    return "\n".join(lines)


def sarif(report: CheckReport, version: str) -> dict:
    from sarif_pydantic import (
        ArtifactLocation,
        Invocation,
        Level,
        Location,
        Message,
        PhysicalLocation,
        Region,
        ReportingDescriptor,
        Result,
        Run,
        Sarif,
        Tool,
        ToolDriver,
    )

    rules = list(RULES)
    results = []
    first_file = report.patch.files[0].path if report.patch.files else None
    written = report.findings[:SARIF_MAX_RESULTS]
    for finding in written:
        path = finding.path or first_file
        locations = None
        if path:
            region = Region(start_line=finding.line or 1, end_line=max(finding.end_line or 0, finding.line or 1))
            locations = [Location(physical_location=PhysicalLocation(
                artifact_location=ArtifactLocation(uri=quote(path), uri_base_id="%SRCROOT%"), region=region))]
        results.append(Result(
            rule_id=finding.rule_id, rule_index=rules.index(finding.rule), level=Level.ERROR,
            message=Message(text=finding.message), locations=locations,
            partial_fingerprints={"semleaseFinding/v1": _fingerprint(finding)},
            properties={"symbol": finding.symbol, "holders": [h.model_dump() for h in finding.holders]}))
    log = Sarif(schema_uri=SARIF_SCHEMA, runs=[Run(
        tool=Tool(driver=ToolDriver(
            name="semlease", version=version, information_uri=INFORMATION_URI,
            rules=[ReportingDescriptor(id=RULES[r][0], name=_camel(r), short_description=Message(text=RULES[r][1]))
                   for r in rules])),
        invocations=[Invocation(execution_successful=True)],
        results=results,
        properties={"lease": report.lease, "region": report.region, "mode": report.mode, "passed": report.passed,
                    "patch": report.patch.source, "findings": len(report.findings)})])
    dumped = log.model_dump(mode="json", by_alias=True, exclude_none=True)
    if len(written) < len(report.findings):
        left = len(report.findings) - len(written)
        dumped["runs"][0]["invocations"][0]["toolExecutionNotifications"] = [{"level": "warning", "message": {
            "text": f"{len(report.findings)} findings: the first {len(written)} are written, {left} left out "
                    "(code scanning keeps at most 5,000 results of a run); `semlease check --format json` lists "
                    "every one"}}]
    return dumped


def sarif_failure(message: str, version: str) -> dict:
    """A SARIF log for a check that could not run: no results, the error as a tool execution notification."""
    return {
        "version": "2.1.0", "$schema": SARIF_SCHEMA,
        "runs": [{"tool": {"driver": {"name": "semlease", "version": version, "informationUri": INFORMATION_URI}},
                  "invocations": [{"executionSuccessful": False, "toolExecutionNotifications": [
                      {"level": "error", "message": {"text": message}}]}],
                  "results": []}],
    }


def _fingerprint(finding: Finding) -> str:
    return hashlib.sha256(f"{finding.rule}\0{finding.symbol or finding.path or finding.message}".encode()).hexdigest()


def _camel(rule: str) -> str:
    head, *rest = rule.split("-")
    return head + "".join(word.capitalize() for word in rest)


def _data(text: str) -> str:
    """Escaping of a workflow command's message (GitHub's toolkit: %, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _lines(lines: tuple[int, ...]) -> str:
    shown = ", ".join(str(n) for n in lines[:8])
    return shown + (f" (+{len(lines) - 8})" if len(lines) > 8 else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
