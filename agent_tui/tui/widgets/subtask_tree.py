"""Phases → subtasks with a status icon and attempt count; updated in place, never rebuilt."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from agent_tui.engine.events import core as ev
from agent_tui.engine.events import trust as tev
from agent_tui.engine.events.trust import QAStep, QAVerdictKind
from agent_tui.tui.textual_compat import renumber_tree_lines

ICONS: dict[str, tuple[str, str]] = {
    "pending": ("○", "dim"),
    "in_progress": ("◐", "bold yellow"),
    "completed": ("✔", "green"),
    "failed": ("✘", "red"),
    "blocked": ("⊘", "magenta"),
    "stuck": ("⚠", "bold red"),
}
QA_VERDICT_ICONS: dict[str, tuple[str, str]] = {
    "approved": ("✔", "green"),
    "rejected": ("✘", "red"),
    "none": ("?", "yellow"),
}


CHECK_MARKS: dict[str, tuple[str, str]] = {
    "checking": ("checking…", "cyan"),
    "unverified": ("unverified", "yellow"),
    "failed": ("check failed", "bold red"),
    "timed_out": ("check timed out", "bold red"),
}
"""What the tree says of a subtask's last check; a pass needs no word beyond its ✔."""
PHASE_ICONS = {"none": ("○", "bold"), "some": ("◐", "bold"), "all": ("✔", "bold green")}
"""A phase's own mark beside the tree's ▼/▶: how much of it is done, not a second arrow."""

NO_PLAN_YET = "no plan yet: a planner session writes it"
QA_NODE = "qa"

EXPAND_ALL_UP_TO = 6
"""Plans with more phases open only the phase being worked on, so big plans start fast."""


class SubtaskTree(Tree[str]):
    """The plan as a tree, updated in place through id → node maps.

    A collapsed phase gets its subtask nodes only when it is first opened (by the user, or
    because the loop moves into it): a 2 000-subtask plan builds one screenful, not 2 000.

    A label is cut to the pane with an ellipsis, its badges (``try 4``, ``unverified``,
    ``stuck``) before the description so they are the last thing to go; the whole
    description is in the tooltip and in the detail (``enter``).  Every line is as wide as
    the pane, so a label that changes never changes the tree's width: that would lay the
    whole screen out again.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("plan", **kwargs)
        self.show_root = False
        self.guide_depth = 2
        self._subtask_nodes: dict[str, TreeNode[str]] = {}
        self._phase_nodes: dict[str, TreeNode[str]] = {}
        self._phase_names: dict[str, str] = {}
        self._phase_members: dict[str, list[str]] = {}
        self._subtasks: dict[str, ev.SubtaskView] = {}
        self.current: str | None = None
        self.lane_badges: dict[str, str] = {}
        """Subtask → where it is among the lanes; none with one lane."""
        self.shown: tuple[str, tuple[ev.PhaseView, ...]] | None = None
        self._qa_title: Text | None = None
        self._qa_labels: dict[tuple[int, str], Text] = {}
        """Each QA step's line, kept so a plan shown anew keeps its QA node."""
        self._qa_nodes: dict[tuple[int, str], TreeNode[str]] = {}
        self._qa_node: TreeNode[str] | None = None
        self._qa_fixing: tuple[int, str] | None = None
        # Until a plan exists (the planner is writing it) the box says so instead of being blank.
        self.root.add_leaf(Text(NO_PLAN_YET, style="dim italic"))

    def show_plan(self, plan: ev.PlanLoaded) -> None:
        """Build the tree when a plan is loaded; the same plan again changes nothing."""
        shown = (plan.spec_dir, plan.phases)
        if shown == self.shown:
            return
        self.shown = shown
        self.clear()
        self._subtask_nodes.clear()
        self._phase_nodes.clear()
        self._phase_members.clear()
        self._subtasks.clear()
        open_phase = next(
            (p.id for p in plan.phases if any(s.status != "completed" for s in p.subtasks)), None
        )
        for phase in plan.phases:
            self._phase_names[phase.id] = phase.name or f"Phase {phase.id}"
            self._phase_members[phase.id] = [s.id for s in phase.subtasks]
            for subtask in phase.subtasks:
                self._subtasks[subtask.id] = subtask
            expand = phase.id == open_phase or len(plan.phases) <= EXPAND_ALL_UP_TO
            phase_node = self.root.add(
                self._phase_label(phase),
                data=phase.id,
                expand=expand,
                allow_expand=bool(phase.subtasks),
            )
            self._phase_nodes[phase.id] = phase_node
            if expand:
                self._add_leaves(phase.id)
        self._qa_node = None
        self._qa_nodes.clear()
        if self._qa_title is not None:
            self._build_qa()
        self._place_cursor()

    def on_mount(self) -> None:
        self._place_cursor()

    def _place_cursor(self) -> None:
        """Put the cursor on a subtask when none is being worked on (a run opened paused,
        finished, or stuck): on the first not completed, else the last.  Left on no line,
        the first ``enter`` would land on a phase and fold it."""
        if self.current is not None or self.cursor_node is not None or not self._subtasks:
            return
        views = list(self._subtasks.values())
        target = next((v for v in views if v.status != "completed"), views[-1])
        self._add_leaves(target.phase_id)
        node = self._subtask_nodes[target.id]
        if node.parent is not None and not node.parent.is_expanded:
            node.parent.expand()
        renumber_tree_lines(self)
        self.move_cursor(node)

    def _add_leaves(self, phase_id: str) -> None:
        """Give a phase its subtask nodes, once."""
        phase_node = self._phase_nodes[phase_id]
        if phase_node.children:
            return
        for subtask_id in self._phase_members[phase_id]:
            self._subtask_nodes[subtask_id] = phase_node.add_leaf(
                self._label(self._subtasks[subtask_id]), data=subtask_id
            )

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        if event.node.parent is self.root and event.node.data in self._phase_nodes:
            self._add_leaves(event.node.data)

    def render_label(self, node: TreeNode[str], base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        label.truncate(self._label_room(node), overflow="ellipsis")
        return label

    def get_label_width(self, node: TreeNode[str]) -> int:
        return self._label_room(node)

    def _label_room(self, node: TreeNode[str]) -> int:
        """The cells a node's label has: the pane's width less the guides before it."""
        depth = 0
        parent = node.parent
        while parent is not None and parent is not self.root:
            depth, parent = depth + 1, parent.parent
        return max(self.scrollable_content_region.width - depth * self.guide_depth, 1)

    def watch_hover_line(self, previous_hover_line: int, hover_line: int) -> None:
        """The tooltip is the whole description of the subtask under the pointer."""
        super().watch_hover_line(previous_hover_line, hover_line)
        node = self.get_node_at_line(hover_line) if hover_line >= 0 else None
        subtask = self.selected_subtask(node) if node is not None else None
        self.tooltip = Text(f"{subtask.id} {subtask.description}") if subtask else None

    def phase_name(self, phase_id: str) -> str:
        return self._phase_names.get(phase_id, f"Phase {phase_id}")

    def selected_subtask(self, node: TreeNode[str]) -> ev.SubtaskView | None:
        """The subtask a node stands for; None for a phase or the no-plan line."""
        if node.parent is None or node.parent is self.root or node.data is None:
            return None
        return self._subtasks.get(node.data)

    def node_of(self, subtask_id: str) -> TreeNode[str] | None:
        """The subtask's node, once its phase has been open."""
        return self._subtask_nodes.get(subtask_id)

    def is_built(self, subtask_id: str) -> bool:
        """Whether the subtask has a node yet (its phase has been open)."""
        return subtask_id in self._subtask_nodes

    def update_subtask(
        self,
        subtask_id: str,
        *,
        status: str | None = None,
        attempts: int | None = None,
        stuck: bool | None = None,
        verification: str | None = None,
    ) -> None:
        view = self._subtasks.get(subtask_id)
        if view is None:
            return
        view = ev.SubtaskView(
            id=view.id,
            description=view.description,
            status=status if status is not None else view.status,
            phase_id=view.phase_id,
            attempts=attempts if attempts is not None else view.attempts,
            stuck=stuck if stuck is not None else view.stuck,
            verification=verification if verification is not None else view.verification,
        )
        self._subtasks[subtask_id] = view
        node = self._subtask_nodes.get(subtask_id)
        if node is not None:
            _relabel(node, self._label(view))
        if view.status == "in_progress" and not view.stuck and self.current != subtask_id:
            self.set_current(subtask_id)
        self._refresh_phase(view.phase_id)

    def set_current(self, subtask_id: str) -> None:
        previous, self.current = self.current, subtask_id
        view = self._subtasks.get(subtask_id)
        if view is not None:
            self._add_leaves(view.phase_id)
        for changed in {previous, subtask_id} - {None}:
            if changed in self._subtask_nodes:
                _relabel(self._subtask_nodes[changed], self._label(self._subtasks[changed]))
        node = self._subtask_nodes.get(subtask_id)
        if node is not None:
            if node.parent is not None and not node.parent.is_expanded:
                node.parent.expand()
            renumber_tree_lines(self)  # else the cursor lands on the node's old line
            self.move_cursor(node)
            self.scroll_to_node(node, animate=False)

    def set_lane_badge(self, subtask_id: str, badge: str) -> None:
        """Where a subtask is among the lanes (``L2``, ``queued 1``, ``merging``; "" for
        nowhere): shown before its other badges."""
        if self.lane_badges.get(subtask_id, "") == badge:
            return
        if badge:
            self.lane_badges[subtask_id] = badge
        else:
            self.lane_badges.pop(subtask_id, None)
        node = self._subtask_nodes.get(subtask_id)
        view = self._subtasks.get(subtask_id)
        if node is not None and view is not None:
            _relabel(node, self._label(view))

    def verification_of(self, subtask_id: str) -> str:
        return self._subtasks[subtask_id].verification

    def label_of(self, subtask_id: str) -> str:
        """The subtask's line as the tree shows it, as plain text."""
        return self._label(self._subtasks[subtask_id]).plain

    # ------------------------------------------------------------------- the QA node

    def qa_step(self, event: tev.QAIteration) -> None:
        """A QA session starts: its line, and the fixes before it are done."""
        if self._qa_fixing is not None:
            done = self._qa_text(*self._qa_fixing, finished=True)
            self._set_qa(self._qa_fixing, done)
            self._qa_fixing = None
        key = (event.iteration, str(event.step))
        if event.step == QAStep.FIXING:
            self._qa_fixing = key
        self._qa_title = Text(f"QA (review {event.iteration} of {event.max_iterations})")
        self._qa_title.stylize("bold magenta")
        self._set_qa(key, self._qa_text(*key, finished=False))

    def qa_verdict(self, event: tev.QAVerdict) -> None:
        icon, style = QA_VERDICT_ICONS[event.verdict]
        said = {"approved": "approved", "rejected": "rejected", "none": "left no verdict"}
        label = Text.assemble((icon + " ", style), f"review {event.iteration} ")
        label.append(said[str(event.verdict)], style=style)
        if event.issues:
            count = len(event.issues)
            label.append(f": {count} issue{'' if count == 1 else 's'}", style="dim")
        if event.verdict == QAVerdictKind.APPROVED:
            self._qa_title = Text("✔ QA approved", style="bold green")
        self._set_qa((event.iteration, str(QAStep.REVIEWING)), label)

    def qa_escalated(self, event: tev.QAEscalated) -> None:
        self._qa_title = Text("⚠ QA escalated", style="bold red")
        self._build_qa()

    def qa_lines(self) -> list[str]:
        """The QA node's title and lines as plain text (what a test reads)."""
        if self._qa_title is None:
            return []
        return [self._qa_title.plain, *(label.plain for label in self._qa_labels.values())]

    @staticmethod
    def _qa_text(iteration: int, step: str, *, finished: bool) -> Text:
        if step == QAStep.REVIEWING:
            return Text.assemble(("◐ ", "bold yellow"), f"review {iteration}…")
        what = "QA_FIX_REQUEST.md" if iteration == 0 else f"review {iteration}"
        if finished:
            return Text.assemble(("✔ ", "green"), f"fixes for {what} applied")
        return Text.assemble(("◐ ", "bold yellow"), f"fixing what {what} asks…")

    def _set_qa(self, key: tuple[int, str], label: Text) -> None:
        self._qa_labels[key] = label
        node = self._qa_nodes.get(key)
        if node is not None and self._qa_node is not None:
            node.set_label(label)
            self._qa_node.set_label(self._qa_title or "QA")
            return
        self._build_qa()

    def _build_qa(self) -> None:
        """The QA node after the phases, with a line per step so far."""
        if self._qa_node is None:
            self._qa_node = self.root.add(self._qa_title or "QA", data=QA_NODE, expand=True)
        self._qa_node.set_label(self._qa_title or "QA")
        for key, label in self._qa_labels.items():
            node = self._qa_nodes.get(key)
            if node is None:
                self._qa_nodes[key] = self._qa_node.add_leaf(label, data=f"{QA_NODE}:{key[0]}")
            else:
                node.set_label(label)

    def status_of(self, subtask_id: str) -> str:
        view = self._subtasks[subtask_id]
        return "stuck" if view.stuck else view.status

    def counts(self) -> tuple[int, int]:
        done = sum(1 for v in self._subtasks.values() if v.status == "completed")
        return done, len(self._subtasks)

    def _refresh_phase(self, phase_id: str) -> None:
        node = self._phase_nodes.get(phase_id)
        if node is None:
            return
        members = self._phase_members[phase_id]
        done = sum(1 for sid in members if self._subtasks[sid].status == "completed")
        _relabel(node, self._phase_text(self._phase_names[phase_id], done, len(members)))

    def _phase_label(self, phase: ev.PhaseView) -> Text:
        done = sum(1 for s in phase.subtasks if s.status == "completed")
        return self._phase_text(self._phase_names[phase.id], done, len(phase.subtasks))

    @staticmethod
    def _phase_text(name: str, done: int, total: int) -> Text:
        icon, style = PHASE_ICONS["all" if done == total else "some" if done else "none"]
        return Text.assemble((f"{icon} ", style), (name, style), (f" ({done}/{total})", "dim"))

    def _label(self, view: ev.SubtaskView) -> Text:
        """``◐ 1.3 try 4 checking… Write tests/…``: the badges first, cut last."""
        icon, style = ICONS["stuck" if view.stuck else view.status]
        completed = view.status == "completed"
        if completed and view.verification == "unverified":
            style = "yellow"
        label = Text.assemble((icon + " ", style), (view.id, "bold"), " ")
        lane = self.lane_badges.get(view.id)
        if lane:
            label.append(lane, style="bold magenta" if lane.startswith("L") else "cyan")
            label.append(" ")
        for badge in _badges(view):
            label.append(badge[0], style=badge[1])
            label.append(" ")
        label.append(view.description)  # from the plan: text, never markup
        if view.id == self.current and view.status == "in_progress":
            label.stylize("reverse")
        return label


def _relabel(node: TreeNode[str], label: Text) -> None:
    """Set a label that changed: a phase's repaints every line of the phase, as set."""
    if node.label != label:
        node.set_label(label)


def _badges(view: ev.SubtaskView) -> list[tuple[str, str]]:
    badges = []
    if view.stuck:
        badges.append(("stuck", "bold red"))
    if view.attempts > 1:
        badges.append((f"try {view.attempts}", "yellow"))
    mark = CHECK_MARKS.get(_shown_check(view))
    if mark is not None:
        badges.append(mark)
    return badges


def _shown_check(view: ev.SubtaskView) -> str:
    """The check worth a word: a running one; for a completed subtask, that none passed;
    for one not completed, a check that failed (a pass it had before says nothing now)."""
    if view.verification == "checking":
        return "checking"
    if view.status == "completed":
        return "unverified" if view.verification == "unverified" else ""
    return view.verification if view.verification in ("failed", "timed_out") else ""
