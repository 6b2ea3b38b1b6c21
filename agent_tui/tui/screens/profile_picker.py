"""Pick the auth profile for the next session; each row says where its credentials come from."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from agent_tui.engine.events.quota import Quota, QuotaStatus, quota_text

if TYPE_CHECKING:
    from agent_tui.auth.credentials import Resolution
    from agent_tui.auth.profiles import Profile


class ProfilePicker(ModalScreen[str | None]):
    """Dismisses with the chosen profile's name, or None on Escape."""

    CSS_PATH = "profile_picker.tcss"

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="picker.close")]

    def __init__(
        self,
        profiles: list[Profile],
        current: str,
        resolver: Callable[[Profile], Resolution],
        next_up: str | None = None,
        quota_of: Callable[[str], Quota | None] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.quota_of = quota_of
        """A profile's usage window as last reported, shown under its row."""
        self.wall = wall
        self.profiles = profiles
        self.current = current
        self.next_up = next_up or current
        """The profile a switch already asked for will bring in (the current one if none)."""
        self.resolver = resolver

    def compose(self) -> ComposeResult:
        with Vertical(id="picker") as picker:
            # On the border, the keys stay in sight in a small terminal, where the rows below
            # the list are the first to go.
            picker.border_subtitle = "Enter: switch · Esc: close"
            yield Label("Auth profile for the next session", id="picker-title")
            options = [self._option(p) for p in self.profiles]
            if not options:
                options = [
                    Option(
                        "no profiles: agent-tui profiles add NAME --config-dir DIR", disabled=True
                    )
                ]
            yield OptionList(*options, id="picker-list")
            yield Label(
                "● in use now   → in use from the next session (a switch waits)\n"
                "Enter: the highlighted profile, from the next session on",
                id="picker-help",
            )

    def on_mount(self) -> None:
        names = [p.name for p in self.profiles]
        option_list = self.query_one(OptionList)
        if self.next_up in names:
            option_list.highlighted = names.index(self.next_up)
        option_list.focus()

    def _option(self, profile: Profile) -> Option:
        resolution = self.resolver(profile)
        credential = resolution.credential
        if resolution.usable and credential is not None:
            status = Text(f"✔ {credential.source} {credential.masked}", style="green")
        else:
            status = Text(f"✘ {resolution.problem or 'no credentials'}", style="red")
        if profile.name == self.current:
            mark = "● "
        else:
            mark = "→ " if profile.name == self.next_up else "  "
        label = Text.assemble((mark, "bold cyan"), (f"{profile.name:<14}", "bold"), " ", status)
        if self.quota_of is not None:
            label.append("\n" + " " * 17)
            label.append_text(self._quota(profile.name))
        return Option(label, id=profile.name)

    def _quota(self, name: str) -> Text:
        assert self.quota_of is not None
        quota, wall = self.quota_of(name), self.wall()
        if quota is None:
            return Text(quota_text(None, wall), style="dim")
        if quota.exhausted_until(wall) is not None:
            style = "red"
        elif quota.status == QuotaStatus.WARNING and quota.used(wall) > 0:
            style = "yellow"
        else:
            style = "dim"
        return Text(quota_text(quota, wall), style=style)

    @on(OptionList.OptionSelected)
    def choose(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
