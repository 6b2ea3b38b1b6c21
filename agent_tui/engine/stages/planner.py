"""The planner stage: sessions until one writes a valid plan."""

from __future__ import annotations

from agent_tui.engine.control.result import RunOutcome, end
from agent_tui.engine.events import core as ev
from agent_tui.engine.failures.policy import Action, Role
from agent_tui.engine.failures.retry import PLANNER
from agent_tui.engine.prompts import render
from agent_tui.engine.schedule.attempt import Attempt
from agent_tui.engine.stages.base import Stage
from agent_tui.exit_codes import EXIT_STOPPED_SHORT
from agent_tui.plan import ImplementationPlan, PlanError


class PlannerStage(Stage):
    retry_key = PLANNER

    async def run(self) -> ImplementationPlan:
        """A try is a session that ran and left no valid plan, or that failed in a way more
        sessions will not fix; ``planner_tries`` of them end the run.  A paused or
        interrupted session is not a try, and API errors are handled as for a coder
        (backoff, profile switch, or a problem only the user can fix).
        """
        problems: list[str] = []
        tries = sessions = 0
        while tries < self.config.planner_tries:
            await self.control.pause_gate()
            self.end_if_stopped()
            sessions += 1
            attempt = Attempt(Role.PLANNER, self.parts.spec_lane, tries=sessions)
            outcome = await self.session(attempt, self._prompt())
            if outcome is None or outcome.outcome == "interrupted":
                continue
            if not outcome.ok:
                action, _ = await self.after_error(attempt, outcome)
                if action == Action.GIVE_UP:
                    tries += 1
                    problems.append(f"{outcome.error_kind or 'error'}: {outcome.message}")
                continue
            tries += 1
            try:
                plan = self.tracker.adopt_file()
            except PlanError as exc:
                problems.append(str(exc))
                self.retries.of(PLANNER).note_planning_errors([str(exc)])
                await self.emit(ev.Notice(level="warning", message=f"planner: {exc}"))
                continue
            self.retries.of(PLANNER).on_success()
            return plan
        last = problems[-1] if problems else "the planner sessions failed"
        message = f"no valid plan after {self.config.planner_tries} planner sessions: {last}"
        end(RunOutcome.ERROR, message, EXIT_STOPPED_SHORT)

    def _prompt(self) -> str:
        retry_text = ""
        planning_errors = self.retries.of(PLANNER).planning_errors
        if planning_errors:
            errors = "\n".join(f"- {e}" for e in planning_errors)
            retry_text = render("planner_retry", errors=errors)
        return render(
            "planner",
            project_dir=self.checkpoints.project_dir,
            spec_dir=self.checkpoints.spec_dir,
            plan_path=self.checkpoints.plan_path,
            validation_errors=retry_text,
            human_input=self.note_text(self.parts.spec_lane),
        )
