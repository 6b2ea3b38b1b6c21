"""The QA loop's bounds and the reviewer's sign-off as read from the plan: pure.

The loop stops and escalates when a bound is reached, as upstream's does: too many
reviews, three reviewer sessions in a row that leave no verdict, or an issue that comes
back a third time after fixes (issues compared by ``title|file|line``, lower-cased and
blank-folded, alike from a similarity of 0.8).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from agent_tui.plan.models import ImplementationPlan

NO_VERDICT_LIMIT = 3
RECURRENCE_LIMIT = 3
SIMILAR_FROM = 0.8
VERDICTS = ("approved", "rejected")
_BLANKS = re.compile(r"\s+")


def _folded(value: Any) -> str:
    return _BLANKS.sub(" ", str(value if value is not None else "")).strip().lower()


def issue_key(issue: Any) -> str:
    """An issue as ``title|file|line``: what makes two reports the same issue."""
    if not isinstance(issue, dict):
        return f"{_folded(issue)}||"
    title = issue.get("title") or issue.get("description") or issue.get("issue")
    if title is None:
        title = json.dumps(issue, sort_keys=True, default=str)
    place = issue.get("file") or issue.get("location") or ""
    return "|".join(_folded(part) for part in (title, place, issue.get("line") or ""))


def issue_text(issue: Any) -> str:
    """An issue in one line, as the screen and QA_ESCALATION.md show it."""
    if not isinstance(issue, dict):
        return _BLANKS.sub(" ", str(issue)).strip()
    title = issue.get("title") or issue.get("description") or issue.get("issue") or "an issue"
    where = issue.get("file") or issue.get("location") or ""
    if where and issue.get("line"):
        where = f"{where}:{issue['line']}"
    text = _BLANKS.sub(" ", str(title)).strip()
    return f"{text} ({where})" if where else text


def similar(a: str, b: str) -> bool:
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= SIMILAR_FROM


@dataclass
class Recurring:
    key: str
    text: str
    iterations: list[int] = field(default_factory=list)


@dataclass
class QABounds:
    """What the loop has seen so far in this run, and whether it must stop."""

    max_iterations: int
    reviews: int = 0
    no_verdict_in_row: int = 0
    issues: list[Recurring] = field(default_factory=list)
    history: list[tuple[int, str]] = field(default_factory=list)
    """Each review's iteration and its outcome in words, for QA_ESCALATION.md."""

    def start_review(self) -> str | None:
        """Count one more review; why there must be none, or None."""
        if self.reviews >= self.max_iterations:
            return f"no approval after {self.reviews} QA reviews (qa_max_iterations)"
        self.reviews += 1
        return None

    def no_verdict(self) -> str | None:
        self.no_verdict_in_row += 1
        self.history.append((self.reviews, "no verdict"))
        if self.no_verdict_in_row >= NO_VERDICT_LIMIT:
            return f"{self.no_verdict_in_row} QA reviews in a row left no verdict in the plan"
        return None

    def approved(self) -> None:
        self.no_verdict_in_row = 0
        self.history.append((self.reviews, "approved"))

    def rejected(self, found: list[Any]) -> str | None:
        """Count the issues of a rejection; why the loop must stop (one recurred), or None."""
        self.no_verdict_in_row = 0
        texts = [issue_text(issue) for issue in found]
        self.history.append((self.reviews, "rejected: " + ("; ".join(texts) or "no issues")))
        for issue, text in zip(found, texts, strict=True):
            key = issue_key(issue)
            known = next((r for r in self.issues if similar(r.key, key)), None)
            if known is None:
                known = Recurring(key, text)
                self.issues.append(known)
            if self.reviews not in known.iterations:
                known.iterations.append(self.reviews)
        for known in self.issues:
            if len(known.iterations) >= RECURRENCE_LIMIT:
                seen = ", ".join(str(i) for i in known.iterations)
                return f"the issue {known.text!r} came back in QA reviews {seen}"
        return None

    def recurring(self) -> list[Recurring]:
        return [r for r in self.issues if len(r.iterations) > 1]


def signoff_of(plan: ImplementationPlan | None) -> dict[str, Any] | None:
    """The plan's ``qa_signoff`` object, or None (absent, ``null``, or not an object)."""
    value = (plan.model_extra or {}).get("qa_signoff") if plan is not None else None
    return dict(value) if isinstance(value, dict) else None


def new_verdict(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str | None:
    """The verdict a review left: a sign-off changed since it began, approved or rejected."""
    if after is None or after == before:
        return None
    status = after.get("status")
    return status if status in VERDICTS else None


def issues_of(signoff: dict[str, Any]) -> list[Any]:
    found = signoff.get("issues_found")
    if found is None:
        return []
    return found if isinstance(found, list) else [found]
