"""The plan the planner wrote, before any of it is coded: approve it, edit it, or discard it.

Shown when the run stops at its plan review (``new``, ``run --review-plan``).  Approve
starts the coding in this app; edit opens ``$EDITOR`` on a draft of the plan, which
replaces the plan only once it is valid (an invalid edit is said in one line and can be
edited again); discard asks first, then ends the run.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Tree

from agent_tui.plan import ImplementationPlan, PlanError, load_plan
from agent_tui.text import counted, printable
from agent_tui.tui.plan_draft import Edited, PlanDraft, editor_command

APPROVE = "approve"
DISCARD = "discard"
KEYS = "a: approve, start coding · e: edit in $EDITOR · d: discard · ctrl+c: quit, keep it"


class PlanReviewScreen(ModalScreen[str]):
    """Dismisses with ``APPROVE``, or ``DISCARD`` once the user said yes to it."""

    CSS_PATH = "plan_review.tcss"

    BINDINGS = [
        Binding("a", "approve", "Approve", id="review.approve"),
        Binding("e", "edit", "Edit", id="review.edit"),
        Binding("d", "discard", "Discard", id="review.discard"),
    ]

    def __init__(self, plan_path: Path, discard_note: str) -> None:
        super().__init__()
        self.plan_path = plan_path
        self.discard_note = discard_note
        self.draft = PlanDraft(plan_path)

    def compose(self) -> ComposeResult:
        with Vertical(id="review") as box:
            box.border_title = "Review the plan"
            box.border_subtitle = KEYS
            yield Label("", id="review-title")
            yield Label(
                Text(f"{self.plan_path} · nothing is coded until you approve", style="dim"),
                id="review-path",
            )
            tree: Tree[str] = Tree("plan", id="review-tree")
            tree.show_root = False
            yield tree

    def on_mount(self) -> None:
        self._show(self._load())
        self.query_one(Tree).focus()

    def on_unmount(self) -> None:
        self.draft.discard()  # a refused edit kept for the next one: no next one now

    def _load(self) -> ImplementationPlan | None:
        try:
            return load_plan(self.plan_path)
        except PlanError as exc:
            self.notify(str(exc), title="Plan", severity="error")
            return None

    def _show(self, plan: ImplementationPlan | None) -> None:
        """The plan's phases, subtasks and checks, as the file says them now."""
        tree = self.query_one(Tree)
        tree.clear()
        if plan is None:
            return
        subtasks = plan.subtasks()
        title = Text.assemble(
            (printable(plan.feature) or "The plan", "bold"),
            f"  {counted(len(subtasks), 'subtask')} in {counted(len(plan.phases), 'phase')}",
        )
        self.query_one("#review-title", Label).update(title)
        for phase in plan.phases:
            after = f"  (after {', '.join(phase.depends_on)})" if phase.depends_on else ""
            node = tree.root.add(
                Text.assemble((printable(f"{phase.id} {phase.name}"), "bold"), (after, "dim")),
                expand=True,
            )
            for subtask in phase.subtasks:
                check = subtask.verification
                label = Text.assemble(
                    (printable(subtask.id), "bold"), " ", printable(subtask.description)
                )
                if check is not None and check.command:
                    expected = f" → {check.expected}" if check.expected else ""
                    shown = printable(f"check: {check.command}{expected}")
                    node.add(label, expand=True).add_leaf(Text(shown, style="cyan"))
                else:
                    node.add_leaf(label.append("  (no check: shown as unverified)", style="dim"))

    def action_approve(self) -> None:
        self.draft.discard()
        self.dismiss(APPROVE)

    def action_edit(self) -> None:
        """Edit a draft of the plan; it replaces the plan only if it is a valid plan."""
        from textual.app import SuspendNotSupported

        try:
            try:
                with self.app.suspend():
                    status = self.draft.edit()
            except SuspendNotSupported:  # a driver that keeps no terminal (tests)
                status = self.draft.edit()
        except OSError as exc:
            editor = " ".join(editor_command())
            self.notify(
                f"Cannot start the editor {editor!r} ({exc.strerror}): set $EDITOR.",
                title="Edit",
                severity="error",
            )
            return
        if status != 0:
            self.notify(f"The editor exited {status}: the plan is unchanged.", title="Edit")
            return
        self._took(self.draft.take())

    def _took(self, edited: Edited) -> None:
        if edited == Edited.INVALID:
            self.notify(
                f"{self.draft.problem}: e edits it again.",
                title="Not saved",
                severity="error",
                timeout=15,
            )
            return
        if edited == Edited.UNCHANGED:
            self.notify("The plan is unchanged.", title="Edit")
            return
        self._show(self._load())
        self.notify("The plan is saved: a approves it.", title="Edit")

    def action_discard(self) -> None:
        from agent_tui.tui.screens.confirm_discard import ConfirmDiscard

        def answered(yes: bool | None) -> None:
            if yes:
                self.draft.discard()
                self.dismiss(DISCARD)

        self.app.push_screen(ConfirmDiscard(self.discard_note), answered)

    @on(Tree.NodeSelected)
    def _stay(self, event: Tree.NodeSelected) -> None:
        event.stop()  # the app's Enter opens a subtask's detail: not over the review
