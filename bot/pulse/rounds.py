"""A pulse round on the clock: open it, deliver its invitations, remind, close and report.

Each step is a claim in the database (bot/storage/pulses.py), so it happens once however many
ticks meet. Invitations are at least once: claimed with a lease, marked sent only after the
platform accepted the message; a process killed in between leaves a lease that runs out, and a
later tick sends that invitation again (a member can get it twice, never zero times). A round
closes at its deadline or as soon as the last member answers (the service calls `_answered` in
the transaction that stores that answer, and the runtime's `wake` closes the round right after).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.charts import pulse_png
from bot.pulse.clock import iso, local_time, parse_iso, schedule_of
from bot.storage.pulses import ClosableRound, Invitation, PulseRow, PulseStore
from bot.storage.purge import Uninstalls
from flows.events import Event, Kind, payload_model
from flows.i18n import DEFAULT_LANGUAGE, t
from flows.pulse import PULSE_SUFFIX, aggregate, next_run, pulse_chart, report_text
from flows.replies import Choice, Reply, Say

if TYPE_CHECKING:
    from bot.pulse.service import PulseSettings, TeamMessenger
    from bot.service import AssessmentService
    from flows.model_schema import MaturityModel

log = logging.getLogger("bot.pulse")
OPEN_RETRY = timedelta(minutes=15)
"""How long a round that could not open (its channel gone, the platform down) waits before the
next try: not every tick, so a team whose channel was archived costs a call and a log line a
quarter of an hour, not every 30 seconds."""

MAX_SEND_ATTEMPTS = 3
"""A member whose DM fails (blocked the bot, left) is tried this often, then left out."""


class RoundLifecycle:
    """The clock-driven half of PulseService (see service.py for the attributes)."""

    service: AssessmentService
    store: PulseStore
    settings: PulseSettings
    round_min_responses: Callable[[str], int]
    clock: Callable[[], datetime]
    pulse_models: dict[str, MaturityModel]
    wake: Callable[[], None] | None
    _ticking: asyncio.Lock

    async def tick(self, messenger: TeamMessenger, now: datetime | None = None) -> None:
        """Open due rounds, send what is unsent, remind, close, and personal re-checks.

        Ticks of one process run one at a time (`pulse now` and the scheduler can meet); the
        claims in the database keep two processes from doing the same step twice."""
        async with self._ticking:
            now = now or self.clock()
            channel = messenger.channel
            for pulse in await asyncio.to_thread(self.store.due_pulses, channel, iso(now)):
                try:
                    await self._open(messenger, pulse, now)
                except Exception:  # one team's platform error must not hold up the others
                    log.exception(
                        "opening the round of pulse team %s failed; trying again in %s",
                        pulse.team_id,
                        OPEN_RETRY,
                    )
                    first = await asyncio.to_thread(
                        self.store.postpone,
                        pulse.team_id,
                        pulse.next_run_at,
                        iso(now + OPEN_RETRY),
                        iso(now),
                    )
                    if first and pulse.created_by:
                        await self._tell_creator(messenger, pulse)
            await self.send_pending(messenger)
            await self._remind(messenger, now)
            await self.close_rounds(messenger, now)
            await self._rechecks(messenger, now)
            await asyncio.to_thread(self.purge_uninstalled, now)

    def purge_uninstalled(self, now: datetime) -> list[str]:
        """Delete the data of workspaces uninstalled longer than the grace period ago (the
        scheduler's holder ticks, so one process does it); the workspaces purged."""
        uninstalls = Uninstalls(self.service.storage)
        grace = timedelta(days=self.settings.workspace_grace_days)
        due = uninstalls.due_purges(now, grace)
        for team_id in due:
            counts = uninstalls.purge_workspace(team_id)
            log.info("purged uninstalled workspace %s: %s", team_id, counts)
        return due

    # ---- opening and inviting ------------------------------------------------------------
    async def _open(self, messenger: TeamMessenger, pulse: PulseRow, now: datetime) -> None:
        listed = await messenger.members(pulse.team)
        if listed is None:
            listed = await asyncio.to_thread(self.store.joined, pulse.team_id)
        due = parse_iso(pulse.next_run_at)
        following = next_run(schedule_of(pulse), now, previous=due)
        hours = self.settings
        await asyncio.to_thread(
            self.store.claim_round,
            pulse,
            now=iso(now),
            remind_at=iso(now + timedelta(hours=hours.remind_after_hours)),
            deadline_at=iso(now + timedelta(hours=hours.deadline_hours)),
            following=iso(following),
            members=listed,
        )

    async def send_pending(self, messenger: TeamMessenger) -> None:
        """Deliver every invitation of an open round that is not delivered and not held by a
        live lease: those of a new round, a failed send, a claim a dead process left."""
        now = iso(self.clock())
        pending = await asyncio.to_thread(
            self.store.pending_invitations, messenger.channel, now, MAX_SEND_ATTEMPTS
        )
        for invitation in pending:
            await self._invite(messenger, invitation)

    async def _invite(self, messenger: TeamMessenger, invitation: Invitation) -> None:
        round_id, member = invitation.round_id, invitation.member
        now = self.clock()
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        claimed = await asyncio.to_thread(
            self.store.claim_invitation, round_id, member, iso(now), iso(lease)
        )
        if not claimed:
            return  # another tick holds it, or delivered it meanwhile
        replies = await asyncio.to_thread(self._invitation, messenger.channel, invitation)
        if replies is not None and await self._deliver(messenger, member, replies):
            await asyncio.to_thread(self.store.delivered, round_id, member, iso(self.clock()))
        else:  # a later tick tries again, while attempts last
            await asyncio.to_thread(self.store.release_invitation, round_id, member)

    def _invitation(self, channel: str, invitation: Invitation) -> tuple[Reply, ...] | None:
        """Start (or resume) the member's pulse assessment and word the invitation; None when
        the database refused the write."""
        pulse_id = invitation.model_id + PULSE_SUFFIX
        handled = self.service.handle(
            channel, invitation.member, Event(Kind.CHOOSE, pulse_id, direct=True)
        )
        if not handled.saved:
            return None
        with self.service.storage.reading():
            assessment_id = self.service.storage.open_assessment_id(handled.user, pulse_id)
        if assessment_id is not None:
            self.store.set_invitation_assessment(
                invitation.round_id, invitation.member, assessment_id
            )
        lang = handled.user.lang
        model = self.pulse_models[pulse_id]
        invite = t(
            "pulse_invite",
            lang,
            team=invitation.team_name or "",
            count=len(model.questions),
            model=model.name.get(lang),
            when=local_time(parse_iso(invitation.deadline_at), invitation.timezone),
        )
        return (Say(invite), *handled.replies)

    # ---- reminding -----------------------------------------------------------------------
    async def _remind(self, messenger: TeamMessenger, now: datetime) -> None:
        due = await asyncio.to_thread(self.store.due_reminders, messenger.channel, iso(now))
        for reminder in due:
            waiting = await asyncio.to_thread(
                self.store.claim_reminder, reminder.round_id, iso(now)
            )
            for member in waiting or ():
                handled = await asyncio.to_thread(
                    self.service.handle,
                    messenger.channel,
                    member,
                    Event(Kind.CHOOSE, reminder.model_id + PULSE_SUFFIX, direct=True),
                )
                text = t(
                    "pulse_reminder",
                    handled.user.lang,
                    team=reminder.team_name or "",
                    when=local_time(parse_iso(reminder.deadline_at), reminder.timezone),
                )
                await self._deliver(messenger, member, (Say(text), *handled.replies))

    # ---- closing -------------------------------------------------------------------------
    def _answered(self, assessment_id: str) -> Callable[[], None] | None:
        """The service finished an assessment (inside its transaction): if it was a pulse
        answer that completes its round, have the runtime close the round as soon as that
        transaction committed (on PostgreSQL the closing runs on another connection, which
        must see this last answer)."""
        if self.store.mark_answered(assessment_id, iso(self.clock())) and self.wake is not None:
            return self.wake
        return None

    async def close_rounds(self, messenger: TeamMessenger, now: datetime | None = None) -> None:
        """Close the rounds past their deadline or answered by everyone, and post each report."""
        now = now or self.clock()
        closable = await asyncio.to_thread(self.store.closable_rounds, messenger.channel, iso(now))
        for candidate in closable:
            posted = await asyncio.to_thread(self._close, candidate, now)
            if posted is None:
                continue  # another tick closed it
            text, chart = posted
            try:
                await messenger.post_team(candidate.team, text, chart)
            except Exception:  # the report is stored; `pulse report` shows it again
                log.exception("posting the pulse report of round %s failed", candidate.round_id)

    def _close(self, candidate: ClosableRound, now: datetime) -> tuple[str, bytes | None] | None:
        """Aggregate and close in one transaction; then the report's text and chart (drawn
        only when the report is shown: below K nothing is computed or drawn)."""
        model = self.service.models[candidate.model_id]
        k = self.round_min_responses(candidate.team)  # its workspace's K (service.py)
        with self.store.transaction():
            inputs = self.store.round_inputs(candidate.round_id, candidate.team_id)
            report = aggregate(
                model,
                list(inputs.results),
                inputs.invited,
                k,
                inputs.previous_median,
            )
            if not self.store.close_round(candidate.round_id, report, iso(now)):
                return None
        lang = candidate.lang
        chart = None
        if not report.withheld:
            trend = self.store.trend(candidate.team_id)
            chart = pulse_png(pulse_chart(model, report, trend, lang))
        return report_text(model, candidate.team_name or "", report, lang), chart

    # ---- personal re-checks --------------------------------------------------------------
    async def _rechecks(self, messenger: TeamMessenger, now: datetime) -> None:
        """Personal "redo this in N months" reminders that fell due (claimed before sending)."""
        channel = messenger.channel
        due = await asyncio.to_thread(self.service.due_rechecks, channel, iso(now))
        for member, model_id, created in due:
            message = await asyncio.to_thread(
                recheck_message, self.service, channel, member, model_id, created, now
            )
            if message is not None:
                await self._deliver(messenger, member, (message,))

    async def _tell_creator(self, messenger: TeamMessenger, pulse: PulseRow) -> None:
        """Once per streak of failed tries: the pulse's creator hears that its round could not
        open, and what to do (invite the bot again, or stop the pulse)."""
        creator = pulse.created_by or ""
        stored = await asyncio.to_thread(self.service.language, messenger.channel, creator)
        lang = stored or pulse.lang or DEFAULT_LANGUAGE
        text = t("pulse_cannot_open", lang, team=pulse.team_name or pulse.team)
        await self._deliver(messenger, creator, (Say(text, is_error=True),))

    @staticmethod
    async def _deliver(messenger: TeamMessenger, member: str, replies: Sequence[Reply]) -> bool:
        from bot.observability.metrics import pulse_message

        try:
            await messenger.send_dm(member, replies)
        except Exception:  # one unreachable member must not stop the round for the others
            log.exception("sending a pulse message to a member failed")
            pulse_message(messenger.channel, sent=False)
            return False
        pulse_message(messenger.channel, sent=True)
        return True


def recheck_message(
    service: AssessmentService,
    channel: str,
    member: str,
    model_id: str,
    created: str,
    now: datetime,
) -> Say | None:
    """ "Time to measure again", with a button that starts the model."""
    model = service.models.get(model_id)
    if model is None:
        return None
    lang = service.language(channel, member) or "en"
    months = max(1, round((now - parse_iso(created)).days / 30))
    text = t("recheck_due", lang, model=model.name.get(lang), months=months)
    return Say(text, (Choice(t("begin_button", lang), payload_model(model_id)),))
