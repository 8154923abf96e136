"""One event in, replies out: load the conversation, run the engine, save, in one transaction.

Every channel goes through `AssessmentService.handle`, so a reply is only returned (and so only
shown) after what it acknowledges is committed: a crash never loses an answer the user saw taken.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.storage import Storage, StorageError, StorageWriteError, User
from flows.engine import (
    AbandonAssessment,
    AddInitiative,
    CreateAssessment,
    Engine,
    FinishAssessment,
    Inputs,
    RemoveInitiative,
    SaveAnswer,
    ScheduleRecheck,
    SetLanguage,
)
from flows.engine_data import HISTORY_PAGE_SIZE, HistoryPage
from flows.events import Event, Kind
from flows.i18n import DEFAULT_LANGUAGE, normalise_language, t
from flows.model_schema import MaturityModel
from flows.replies import Reply, Say
from flows.results import PastResult
from flows.scan import QuickScan

log = logging.getLogger(__name__)


def new_assessment_id() -> str:
    """12 hex characters: unique enough for millions of assessments, short for button payloads."""
    return secrets.token_hex(6)


@dataclass(frozen=True)
class Handled:
    user: User
    replies: tuple[Reply, ...]
    duplicate: bool = False
    saved: bool = True
    """False when the database refused the write: nothing of the event was stored."""


@dataclass(frozen=True)
class Home:
    """A user's home screen (Slack's Home tab): each model's latest result, newest first, and
    the newest page of results."""

    latest: tuple[PastResult, ...]
    recent: HistoryPage


class AssessmentService:
    def __init__(
        self,
        storage: Storage,
        models: dict[str, MaturityModel],
        make_id: Callable[[], str] = new_assessment_id,
        scan: QuickScan | None = None,
    ) -> None:
        self.storage = storage
        self.models = models
        self.scan = scan
        self.engine = Engine(models, scan)
        self.make_id = make_id
        self.on_finish: list[Callable[[str], Callable[[], object] | None]] = []
        """Called with the id of each assessment that finishes, inside the transaction that
        stores its result (the pulse marks a round's answer there, atomically with it). What a
        hook returns, if anything, is called once that transaction committed: work that another
        connection must see the result for (closing the round it completed)."""

    def handle(
        self,
        channel: str,
        external_id: str,
        event: Event,
        *,
        lang_hint: str | None = None,
        delivery_key: str | None = None,
    ) -> Handled:
        """Apply `event` for this user. `delivery_key` (a platform update/event id) makes a
        redelivered event a no-op; `lang_hint` (platform locale) sets a new user's language.

        When the database cannot be written (a full disk), nothing of the event is stored and
        the one reply is an error saying so: every channel shows it, and the user tries again
        (a redelivery too is applied then, as its key was not recorded either)."""
        try:
            return self._apply(channel, external_id, event, lang_hint, delivery_key)
        except StorageWriteError as exc:
            log.warning("%s; the event was not applied", exc)
            return self.not_saved(channel, external_id, lang_hint)

    def not_saved(self, channel: str, external_id: str, lang_hint: str | None = None) -> Handled:
        """The reply when a user's event could not be stored, in their language: that is read,
        never written, and a read that fails too falls back to the platform's locale."""
        user = None
        with suppress(StorageError), self.storage.reading():
            user = self.storage.find_user(channel, external_id)
        if user is None:
            user = User(0, channel, external_id, normalise_language(lang_hint))
        return Handled(user, (Say(t("not_saved", user.lang), is_error=True),), saved=False)

    def _apply(
        self,
        channel: str,
        external_id: str,
        event: Event,
        lang_hint: str | None,
        delivery_key: str | None,
    ) -> Handled:
        storage = self.storage
        committed: list[Callable[[], object]] = []
        with storage.transaction():
            if delivery_key is not None and not storage.first_delivery(channel, delivery_key):
                user = storage.user(channel, external_id, normalise_language(lang_hint))
                return Handled(user, (), duplicate=True)
            user = storage.user(channel, external_id, normalise_language(lang_hint))
            page = event.history_page
            inputs = Inputs(
                open_assessments=storage.open_assessments(user),
                history=storage.latest_results(user) if event.kind is Kind.RESULT else None,
                history_page=storage.history_page(user, page) if page is not None else None,
                new_assessment_id=self.make_id(),
                initiatives=storage.initiatives(user) if event.needs_initiatives else (),
            )
            outcome = self.engine.handle(storage.conversation(user), inputs, event)
            answers = 0
            for effect in outcome.effects:
                if isinstance(effect, SaveAnswer):
                    storage.save_answer(effect.assessment_id, effect.question_id, effect.option_id)
                    answers += 1
                elif isinstance(effect, CreateAssessment):
                    storage.create_assessment(user, effect.assessment_id, effect.model_id)
                elif isinstance(effect, FinishAssessment):
                    storage.finish_assessment(
                        user, effect.assessment_id, effect.model_id, effect.result
                    )
                    for hook in self.on_finish:  # in the same transaction as the result
                        then = hook(effect.assessment_id)
                        if then is not None:
                            committed.append(then)
                elif isinstance(effect, AbandonAssessment):
                    storage.abandon_assessment(effect.assessment_id)
                elif isinstance(effect, SetLanguage):
                    storage.set_language(user, effect.lang)
                elif isinstance(effect, AddInitiative):
                    storage.add_initiative(user, effect.initiative)
                elif isinstance(effect, RemoveInitiative):
                    storage.remove_initiative(user, effect.initiative_id)
                elif isinstance(effect, ScheduleRecheck):
                    due = datetime.now(UTC) + timedelta(days=30 * effect.months)
                    storage.add_recheck(user, effect.model_id, due.isoformat(timespec="seconds"))
            storage.save_conversation(user, outcome.conversation)
        for then in committed:
            then()
        if answers:  # committed: counted for /metrics (imported at the first answer only)
            from bot.observability.metrics import answers_stored

            answers_stored(channel, answers)
        return Handled(
            User(user.id, user.channel, user.external_id, outcome.conversation.lang),
            outcome.replies,
        )

    def dm_channel(self, channel: str, member: str) -> str | None:
        """The direct-message channel the platform gave for `member` before, if stored."""
        with self.storage.reading():
            return self.storage.dm_channel(channel, member)

    def remember_dm_channel(self, channel: str, member: str, dm: str) -> None:
        """Keep a member's direct-message channel; a full disk only costs a later re-open."""
        try:
            self.storage.save_dm_channel(channel, member, dm)
        except StorageWriteError as exc:
            log.warning("%s; the direct-message channel is not kept", exc)

    def due_rechecks(
        self, channel: str, now: str, external_id: str | None = None
    ) -> list[tuple[str, str, str]]:
        """Personal re-check reminders that fell due, claimed (marked sent) as they are read:
        (external id, model id, created at)."""
        return self.storage.claim_due_rechecks(channel, now, external_id)

    def set_language(self, channel: str, external_id: str, lang: str) -> None:
        """Set a user's language outside the conversation (a command-line flag, a platform's
        locale change), without a reply."""
        with self.storage.transaction():
            user = self.storage.user(channel, external_id, normalise_language(lang))
            self.storage.set_language(user, normalise_language(lang))

    def first_delivery(self, channel: str, delivery_key: str) -> bool:
        """Record a platform delivery that does not go through `handle` (a confirmation button,
        an export); False when it was seen before, so a redelivered update is applied once."""
        with self.storage.transaction():
            return self.storage.first_delivery(channel, delivery_key)

    def forget(self, channel: str, external_id: str) -> bool:
        """Erase a user's data; False when there was nothing stored."""
        with self.storage.transaction():
            user = self.storage.find_user(channel, external_id)
            # without a users row there may still be rows under the id (a pulse they started)
            return self.storage.forget_user(user or User(0, channel, external_id, "en"))

    def export(self, channel: str, external_id: str) -> dict | None:
        """The user's own answers and results, with model and phase names, as plain data."""
        with self.storage.reading():
            known = self.storage.find_user(channel, external_id)
            # someone who only started a pulse has no users row, but data keyed to their id
            user = known or User(0, channel, external_id, DEFAULT_LANGUAGE)
            data = self.storage.export_user(user)
        if known is None and not any(v for v in data.values() if isinstance(v, list)):
            return None
        for assessment in data["assessments"]:
            model_id = assessment["model_id"]
            model = self.models.get(model_id) or self.engine.extra_models.get(model_id)  # pulses
            if model is None:
                continue
            assessment["model_name"] = model.name.get(user.lang)
            for answer in assessment["answers"]:
                question = model.question(answer["question_id"])
                option = (
                    next((o for o in question.options if o.id == answer["option_id"]), None)
                    if question
                    else None
                )
                answer["question"] = question.text.get(user.lang) if question else None
                answer["answer"] = option.label.get(user.lang) if option else None
            if assessment["result"]:
                index = model.phase_index(assessment["result"]["phase_id"])
                assessment["result"]["phase_name"] = model.phases[index].name.get(user.lang)
        return data

    def language(self, channel: str, external_id: str) -> str | None:
        """The stored language of a known user (None for a first contact)."""
        with self.storage.reading():
            user = self.storage.find_user(channel, external_id)
        return user.lang if user else None

    def history(self, channel: str, external_id: str) -> tuple[User | None, tuple[PastResult, ...]]:
        """All of a user's results, newest first: the command line's `history` (an export).
        A chat shows a page at a time (`history_page`)."""
        with self.storage.reading():
            user = self.storage.find_user(channel, external_id)
            return user, (self.storage.history(user) if user else ())

    def history_page(
        self, channel: str, external_id: str, number: int = 1, size: int = HISTORY_PAGE_SIZE
    ) -> HistoryPage:
        """Page `number` of a user's results, newest first (empty for an unknown user)."""
        with self.storage.reading():
            user = self.storage.find_user(channel, external_id)
            if user is None:
                return HistoryPage((), number, 0, size)
            return self.storage.history_page(user, number, size)

    def home(self, channel: str, external_id: str) -> Home:
        """What a home screen shows: each model's latest result and the newest page."""
        with self.storage.reading():
            user = self.storage.find_user(channel, external_id)
            if user is None:
                return Home((), HistoryPage((), 1, 0))
            return Home(self.storage.latest_results(user), self.storage.history_page(user, 1))

    def claim_home_view(self, channel: str, external_id: str, digest: str) -> bool:
        """Whether to publish a home view with this digest: False when the one published
        last is the same. Recorded before publishing, so two triggers at once publish once
        (`release_home_view` when the publish failed). Only for a user the bot knows: nothing
        is kept about someone who never used it or just had their data erased (their empty
        view is published each time); a full disk only costs an extra publish."""
        with self.storage.reading():
            if self.storage.find_user(channel, external_id) is None:
                return True
            if self.storage.home_view_digest(channel, external_id) == digest:
                return False  # the common case, without taking the write lock
        try:
            return self.storage.claim_home_view(channel, external_id, digest)
        except StorageWriteError as exc:
            log.warning("%s; the home view is published without its record", exc)
            return True

    def release_home_view(self, channel: str, external_id: str, digest: str) -> None:
        """A claimed view was not published: the next trigger publishes it."""
        try:
            self.storage.release_home_view(channel, external_id, digest)
        except StorageWriteError as exc:
            log.warning("%s; the unpublished home view stays recorded", exc)
