"""The Kili project interface (json interface) built from the taxonomy, checked against it, and
Kili label json responses read back into (category key, evidence spans).

The shape is the original project's: JOB_0 a required radio CLASSIFICATION job with one category
per label (key ``USER_EXPERIENCE``, name as written), JOB_1 a NAMED_ENTITIES_RECOGNITION job with
the same categories and their colours, for the spans that are the evidence of a label.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reviewtui.config import Taxonomy

CLASSIFICATION_JOB = "JOB_0"
NER_JOB = "JOB_1"


def build_interface(taxonomy: Taxonomy) -> dict[str, Any]:
    """The json interface for a TEXT project labeling with ``taxonomy``."""
    classes = {c.key: {"children": [], "name": c.name, "id": f"category{i + 1}"}
               for i, c in enumerate(taxonomy)}
    spans = {c.key: {"children": [], "name": c.name, "color": c.colour, "id": f"category{len(taxonomy) + i + 1}"}
             for i, c in enumerate(taxonomy)}
    return {"jobs": {
        CLASSIFICATION_JOB: {
            "mlTask": "CLASSIFICATION", "required": 1, "isChild": False, "instruction": "Category",
            "content": {"categories": classes, "input": "radio"},
        },
        NER_JOB: {
            "mlTask": "NAMED_ENTITIES_RECOGNITION", "required": 0, "isChild": False,
            "instruction": "Evidence", "content": {"categories": spans, "input": "radio"},
        },
    }}


@dataclass
class InterfaceCheck:
    """How a project's interface fits the taxonomy. ``errors`` block attaching; warnings do not."""

    classification_job: str | None = None
    ner_job: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _jobs(interface: Any) -> dict[str, Any]:
    if isinstance(interface, str):
        try:
            interface = json.loads(interface or "{}")
        except ValueError:
            return {}
    if not isinstance(interface, dict):
        return {}
    jobs = interface.get("jobs")
    return jobs if isinstance(jobs, dict) else {}


def _pick(jobs: dict[str, Any], task: str, preferred: str) -> str | None:
    candidates = [name for name, job in jobs.items()
                  if isinstance(job, dict) and job.get("mlTask") == task and not job.get("isChild")]
    if preferred in candidates:
        return preferred
    return candidates[0] if candidates else None


def check_interface(interface: Any, taxonomy: Taxonomy) -> InterfaceCheck:
    """Compare a project's json interface (dict or JSON string) with the taxonomy."""
    jobs = _jobs(interface)
    check = InterfaceCheck()
    cls_job = _pick(jobs, "CLASSIFICATION", CLASSIFICATION_JOB)
    if cls_job is None:
        check.errors.append("the project has no top-level CLASSIFICATION job (reviewtui reads the label from one)")
        return check
    check.classification_job = cls_job
    content = jobs[cls_job].get("content") or {}
    cats: dict[str, Any] = content.get("categories") or {}
    ours = {c.key: c for c in taxonomy}
    missing = [k for k in ours if k not in cats]
    extra = [k for k in cats if k not in ours]
    if missing:
        check.errors.append(f"job {cls_job} lacks the categories {', '.join(missing)} of reviewtui.toml (add them "
                            "to the project's interface in Kili, or remove them from [[categories]])")
    if extra:
        check.errors.append(f"job {cls_job} has categories {', '.join(extra)} that reviewtui.toml does not "
                            "(add them to [[categories]] or remove them in Kili)")
    for key in ours:
        if key in cats and isinstance(cats[key], dict) and cats[key].get("name") not in (None, ours[key].name):
            check.warnings.append(f"category {key} is named {cats[key].get('name')!r} in Kili and "
                                  f"{ours[key].name!r} in reviewtui.toml")
    if content.get("input") not in (None, "radio"):
        check.warnings.append(f"job {cls_job} takes {content.get('input')!r} input, not radio: an asset with "
                              "several categories is recorded as MULTI_LABEL when the taxonomy has it")
    ner = _pick(jobs, "NAMED_ENTITIES_RECOGNITION", NER_JOB)
    check.ner_job = ner
    if ner is None:
        check.warnings.append("the project has no NAMED_ENTITIES_RECOGNITION job: evidence spans are not pulled")
    else:
        ner_cats = (jobs[ner].get("content") or {}).get("categories") or {}
        unknown = [k for k in ner_cats if k not in ours]
        if unknown:
            check.warnings.append(f"spans of categories {', '.join(unknown)} (job {ner}) are not in the taxonomy "
                                  "and are ignored")
    return check


class LabelProblem(ValueError):
    """A Kili label reviewtui cannot record (its message says why)."""


def read_label(response: Any, taxonomy: Taxonomy, classification_job: str = CLASSIFICATION_JOB,
               ner_job: str | None = NER_JOB) -> tuple[str, list[dict[str, Any]] | None]:
    """(category key, spans or None) from a Kili json response (dict or JSON string).

    Raises LabelProblem for no category, an unknown category, or several categories when the
    taxonomy has no MULTI_LABEL.
    """
    if isinstance(response, str):
        try:
            response = json.loads(response or "{}")
        except ValueError as exc:
            raise LabelProblem("the label's jsonResponse is not valid JSON") from exc
    if not isinstance(response, dict):
        raise LabelProblem("the label's jsonResponse is not an object")
    job = response.get(classification_job) or {}
    names = [c.get("name") for c in (job.get("categories") or []) if isinstance(c, dict)]
    names = [n for n in names if n]
    if not names:
        raise LabelProblem(f"the label has no category in job {classification_job}")
    keys = []
    for name in names:
        key = taxonomy.resolve(name)
        if key is None:
            raise LabelProblem(f"the label names category {name!r}, which reviewtui.toml does not have "
                               f"(known: {', '.join(taxonomy.keys)})")
        keys.append(key)
    keys = list(dict.fromkeys(keys))
    if len(keys) > 1:
        if "MULTI_LABEL" not in taxonomy.keys:
            raise LabelProblem(f"the label has several categories ({', '.join(keys)}) and the taxonomy has no "
                               "MULTI_LABEL")
        category = "MULTI_LABEL"
    else:
        category = keys[0]
    spans: list[dict[str, Any]] | None = None
    if ner_job and isinstance(response.get(ner_job), dict):
        spans = []
        for ann in response[ner_job].get("annotations") or []:
            if not isinstance(ann, dict):
                continue
            cat_names = [c.get("name") for c in ann.get("categories") or [] if isinstance(c, dict)]
            key = taxonomy.resolve(cat_names[0]) if cat_names and cat_names[0] else None
            if key is None or ann.get("beginOffset") is None:
                continue
            begin = int(ann["beginOffset"])
            end = int(ann.get("endOffset", begin + len(ann.get("content") or "")))
            spans.append({"category": key, "start": begin, "end": end, "text": ann.get("content") or ""})
        spans = spans or None
    return category, spans


def prediction_response(category: str, confidence: float | None = None,
                        classification_job: str = CLASSIFICATION_JOB) -> dict[str, Any]:
    """A Kili json response classifying into ``category`` (a pre-annotation)."""
    cat: dict[str, Any] = {"name": category}
    if confidence is not None:
        cat["confidence"] = int(round(max(0.0, min(1.0, float(confidence))) * 100))
    return {classification_job: {"categories": [cat]}}
