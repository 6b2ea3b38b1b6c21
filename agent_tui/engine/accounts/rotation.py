"""Which profile the next session uses, and the env that session gets.

One object holds the current profile, a switch waiting for the next session, and the
profiles that failed since the last success: auto-switch does not go back to those, so two
failing accounts cannot take turns for ever.  Nor to one whose usage window is known to be
exhausted (the quota book): that one waits for its reset.  Switches happen only between
sessions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from agent_tui.auth.credentials import Resolution, login_hint, resolve, session_env
from agent_tui.auth.login import HOW_TO_LOG_IN
from agent_tui.auth.profiles import Profile, ProfileStore
from agent_tui.auth.redaction import CREDENTIAL_ENV, redact
from agent_tui.engine.accounts.quota_book import QuotaBook
from agent_tui.engine.events import core as ev
from agent_tui.engine.events.timefmt import clock_time

PASSTHROUGH_ENV = ("ANTHROPIC_BASE_URL", "CLAUDE_CODE_MAX_RETRIES")
IMPLICIT_PROFILE = "default"
"""The name sessions run under when no profile is chosen: the CLI's own default login."""
RATE_LIMIT_RETRIES_BEFORE_SWITCH = 3


class NoUsableProfile(Exception):
    """The current profile cannot run a session and none can take over; says why."""


class ProfileRotation:
    def __init__(
        self,
        store: ProfileStore,
        emit: ev.EventSink,
        *,
        environ: Mapping[str, str],
        start: str | None = None,
        auto_switch: bool = False,
        extra_env: Mapping[str, str] | None = None,
        quota: QuotaBook | None = None,
        wall: Callable[[], float] = time.time,
        lane: int = 1,
        spent: Callable[[str], str | None] | None = None,
    ) -> None:
        """``spent`` says why a profile's monthly budget keeps it out (None: it does not)."""
        self.store = store
        self.lane = lane
        """The lane whose profile this is: its switches say so."""
        self._emit = emit
        self._environ = environ
        self.auto_switch = auto_switch
        self.quota = quota if quota is not None else QuotaBook()
        self.wall = wall
        self._spent = spent
        self._extra_env = dict(extra_env or {})
        active = store.active_profile()
        self.current: str = start or (active.name if active else IMPLICIT_PROFILE)
        self._pending: tuple[str, str] | None = None
        self.failed: set[str] = set()
        """Profiles left after an auth or rate-limit error since the last success or resume."""
        self._notices_shown: set[str] = set()

    @property
    def next(self) -> str:
        """The profile the next session will use: a switch asked for, or the current one."""
        return self._pending[0] if self._pending else self.current

    def request(self, name: str, reason: str = "user") -> None:
        """Use ``name`` from the next session on (the current one: cancel a switch)."""
        self.store.get(name)
        self._pending = (name, reason)

    async def apply_pending(self) -> None:
        if self._pending is None:
            return
        name, reason = self._pending
        self._pending = None
        if name != self.current:
            await self._switch(name, reason)

    async def _switch(self, name: str, reason: str) -> None:
        previous, self.current = self.current, name
        await self._emit(ev.ProfileSwitched(from_=previous, to=name, reason=reason, lane=self.lane))

    def note_failure(self) -> None:
        """The current profile failed on its account: auto-switch leaves it alone for now."""
        self.failed.add(self.current)

    def forgive(self) -> None:
        """A success or a resume: every profile may be tried again (a login may be fixed)."""
        self.failed.clear()

    def resolution(self, profile: Profile) -> Resolution:
        return resolve(profile, environ=self._environ)

    def exhausted_until(self, name: str) -> float | None:
        """When ``name``'s used-up usage window resets; None if it is not known to be."""
        return self.quota.exhausted_until(name, self.wall())

    def login_hint(self, name: str) -> str:
        """What to run to log ``name`` in again."""
        if name not in self.store.names():
            return HOW_TO_LOG_IN
        return login_hint(self.store.get(name))

    def _candidate(self, profile: Profile) -> Resolution:
        """A profile auto-switch may move to: not failed, window open, monthly budget not
        spent, credentials usable."""
        if profile.name in self.failed:  # not looked up again (the keychain may prompt)
            return Resolution(profile.name, "", "", problem="failed since the last success")
        until = self.exhausted_until(profile.name)
        if until is not None:
            resets = clock_time(until, self.wall())
            return Resolution(profile.name, "", "", problem=f"usage limit until {resets}")
        spent = self._spent(profile.name) if self._spent is not None else None
        if spent is not None:
            return Resolution(profile.name, "", "", problem=spent)
        return self.resolution(profile)

    def next_usable(self) -> str | None:
        """The next profile in the user's order that resolves usable, has not failed, and
        whose usage window is not known to be exhausted."""
        if not self.store.names():
            return None
        return self.store.next_usable(self.current, self._candidate)

    def roomiest(self) -> str | None:
        """The profile with the most of its window left, if it has more than the current
        one (the first in the user's order on a tie); an unreported window counts as unused."""
        wall = self.wall()
        best, best_used = None, self.quota.used(self.current, wall)
        for name in self.store.names():
            used = self.quota.used(name, wall)
            if name == self.current or used >= best_used:
                continue
            if self._candidate(self.store.get(name)).usable:
                best, best_used = name, used
        return best

    def rate_limit_retries(self) -> int | None:
        """With auto-switch and another profile, stop waiting on a 429 after a few CLI retries."""
        if self.auto_switch and len(self.store.names()) > 1:
            return RATE_LIMIT_RETRIES_BEFORE_SWITCH
        return None

    async def session_env(self) -> dict[str, str]:
        """The env of the next session's CLI, from the current profile.

        An unusable profile hands over to the next usable one when auto-switch is on;
        otherwise :class:`NoUsableProfile` says why.
        """
        env = {k: self._environ[k] for k in PASSTHROUGH_ENV if k in self._environ}
        env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
        env.update(self._extra_env)
        if self.current == IMPLICIT_PROFILE and IMPLICIT_PROFILE not in self.store.names():
            # No profile chosen: the CLI's own default login, as without agent-tui; an
            # inherited credential is then this session's own (the rest are blanked).
            env.update({k: v for k in CREDENTIAL_ENV if (v := self._environ.get(k))})
            return env
        if self.current not in self.store.names():
            raise NoUsableProfile(f"profile {self.current!r} is no longer in the profiles file")
        for _ in range(len(self.store.names())):  # each profile is looked at once at most
            profile = self.store.get(self.current)
            resolution = self.resolution(profile)
            await self._show_notices(resolution)
            if resolution.usable:
                env.update(session_env(profile, resolution, self._environ))
                return env
            target = self.next_usable() if self.auto_switch else None
            if target is None:
                break
            await self._switch(target, "no usable credentials")
        raise NoUsableProfile(resolution.refusal)

    async def _show_notices(self, resolution: Resolution) -> None:
        for notice in resolution.notices:
            if notice not in self._notices_shown:
                self._notices_shown.add(notice)
                await self._emit(ev.Notice(level="warning", message=redact(notice)))
