"""The assessment store: users, conversations, assessments, answers, results, initiatives,
re-check reminders, and the deliveries already applied. Every statement an assessment needs."""

from __future__ import annotations

import json
from collections.abc import Iterable

from bot.storage.connection import now_iso
from bot.storage.personal import PersonalData
from bot.storage.users import User
from flows.engine import Conversation, OpenAssessment
from flows.engine_data import HISTORY_PAGE_SIZE, HistoryPage
from flows.initiatives import Initiative, NewInitiative
from flows.results import PastResult, StoredResult


class Storage(PersonalData):
    """The assessment store (see connection.py for the backends and the transactions)."""

    # ---- users and conversations ---------------------------------------------------------
    def user(self, channel: str, external_id: str, lang: str = "en") -> User:
        """The user for this channel id, created on first contact with `lang`. Inside a
        transaction the row stays locked until it ends (PostgreSQL; SQLite holds the file), so
        one user's events are applied one after the other by any number of workers."""
        find = "select id, lang from users where channel = ? and external_id = ?" + (
            self.dialect.lock_row
        )
        row = self._one(find, (channel, external_id))
        if row is None:
            self.execute(
                "insert into users (channel, external_id, lang, created_at) "
                "values (?, ?, ?, ?) on conflict do nothing",
                (channel, external_id, lang, now_iso()),
            )
            row = self._one(find, (channel, external_id))
        return User(row[0], channel, external_id, row[1])

    def find_user(self, channel: str, external_id: str) -> User | None:
        row = self._one(
            "select id, lang from users where channel = ? and external_id = ?",
            (channel, external_id),
        )
        return User(row[0], channel, external_id, row[1]) if row else None

    def conversation(self, user: User) -> Conversation:
        row = self._one(
            "select state, model_id, assessment_id, question_id from conversations "
            "where user_id = ?",
            (user.id,),
        )
        if row is None:
            return Conversation(lang=user.lang)
        return Conversation(row[0], user.lang, row[1], row[2], row[3])

    def save_conversation(self, user: User, conv: Conversation) -> None:
        self.execute(
            "insert into conversations (user_id, state, model_id, assessment_id, question_id, "
            "updated_at) values (?, ?, ?, ?, ?, ?) on conflict(user_id) do update set "
            "state = excluded.state, model_id = excluded.model_id, "
            "assessment_id = excluded.assessment_id, question_id = excluded.question_id, "
            "updated_at = excluded.updated_at",
            (user.id, conv.state, conv.model_id, conv.assessment_id, conv.question_id, now_iso()),
        )

    def set_language(self, user: User, lang: str) -> None:
        self.execute("update users set lang = ? where id = ?", (lang, user.id))

    # ---- assessments and answers ---------------------------------------------------------
    def open_assessments(self, user: User) -> dict[str, OpenAssessment]:
        rows = self.execute(
            "select a.id, a.model_id, x.question_id, x.option_id, x.answered_at "
            "from assessments a left join answers x on x.assessment_id = a.id "
            "where a.user_id = ? and a.status = 'open' order by a.started_at, x.answered_at",
            (user.id,),
        ).fetchall()
        found: dict[str, OpenAssessment] = {}
        for assessment_id, model_id, question_id, option_id, answered_at in rows:
            current = found.get(model_id)
            if current is None or current.id != assessment_id:
                current = OpenAssessment(assessment_id, model_id, {})
                found[model_id] = current  # the newest open one per model wins
            if answered_at is not None:
                current.answers[question_id] = option_id
        return found

    def create_assessment(self, user: User, assessment_id: str, model_id: str) -> None:
        self.execute(
            "insert into assessments (id, user_id, model_id, status, started_at) "
            "values (?, ?, ?, 'open', ?)",
            (assessment_id, user.id, model_id, now_iso()),
        )

    def save_answer(self, assessment_id: str, question_id: str, option_id: str | None) -> None:
        self.execute(
            "insert into answers (assessment_id, question_id, option_id, answered_at) "
            "values (?, ?, ?, ?) on conflict(assessment_id, question_id) do update set "
            "option_id = excluded.option_id, answered_at = excluded.answered_at",
            (assessment_id, question_id, option_id, now_iso()),
        )

    def finish_assessment(
        self, user: User, assessment_id: str, model_id: str, result: StoredResult
    ) -> None:
        stamp = now_iso()
        self.execute(
            "update assessments set status = 'finished', finished_at = ? where id = ?",
            (stamp, assessment_id),
        )
        self.execute(
            "insert into results (assessment_id, user_id, model_id, phase_id, "
            "pillar_levels, detail, created_at) values (?, ?, ?, ?, ?, ?, ?) "
            "on conflict(assessment_id) do update set user_id = excluded.user_id, "
            "model_id = excluded.model_id, phase_id = excluded.phase_id, "
            "pillar_levels = excluded.pillar_levels, detail = excluded.detail, "
            "created_at = excluded.created_at",
            (
                assessment_id,
                user.id,
                model_id,
                result.phase_id,
                json.dumps(result.pillar_levels),
                json.dumps(result.to_json()),
                stamp,
            ),
        )

    def open_assessment_id(self, user: User, model_id: str) -> str | None:
        """The user's newest open assessment of `model_id` (a pulse invitation records it)."""
        row = self._one(
            "select id from assessments where user_id = ? and model_id = ? and status = 'open' "
            "order by started_at desc, rowid desc limit 1",
            (user.id, model_id),
        )
        return row[0] if row else None

    def abandon_assessment(self, assessment_id: str) -> None:
        self.execute(
            "update assessments set status = 'abandoned' where id = ? and status = 'open'",
            (assessment_id,),
        )

    def answers(self, assessment_id: str) -> dict[str, str | None]:
        rows = self.execute(
            "select question_id, option_id from answers where assessment_id = ?",
            (assessment_id,),
        ).fetchall()
        return dict(rows)

    # ---- results -------------------------------------------------------------------------
    # Every read below walks an index on (user_id, ...), newest first: a user with hundreds of
    # results costs what one with twenty does (only `history`, the full export, reads them all).
    _RESULT = "select assessment_id, model_id, created_at, detail from results "

    def history(self, user: User) -> tuple[PastResult, ...]:
        """All the user's results, newest first: for the command line's export, not a chat."""
        return _past(
            self.execute(
                self._RESULT + "where user_id = ? order by created_at desc, rowid desc",
                (user.id,),
            )
        )

    def history_page(self, user: User, number: int, size: int = HISTORY_PAGE_SIZE) -> HistoryPage:
        """Page `number` (1: the newest `size` results) and how many results there are."""
        total = self._one("select count(*) from results where user_id = ?", (user.id,))[0]
        rows = self.execute(
            self._RESULT + "where user_id = ? order by created_at desc, rowid desc "
            "limit ? offset ?",
            (user.id, size, (number - 1) * size),
        )
        return HistoryPage(_past(rows), number, total, size)

    def latest_results(self, user: User) -> tuple[PastResult, ...]:
        """Each model's latest result, newest first: one seek per model the user has taken
        (the index on user, model, created_at), hopping from model id to model id."""
        rows = self.execute(
            "with recursive taken(model_id) as ("
            " select min(model_id) from results where user_id = :user"
            " union all"
            " select (select min(model_id) from results where user_id = :user"
            " and model_id > taken.model_id) from taken where taken.model_id is not null) "
            "select r.assessment_id, r.model_id, r.created_at, r.detail from taken "
            "join results r on r.rowid = (select x.rowid from results x "
            " where x.user_id = :user and x.model_id = taken.model_id "
            " order by x.created_at desc, x.rowid desc limit 1) "
            "order by r.created_at desc, r.rowid desc",
            {"user": user.id},
        )
        return _past(rows)

    # ---- initiatives ---------------------------------------------------------------------
    def initiatives(self, user: User) -> tuple[Initiative, ...]:
        rows = self.execute(
            "select id, name, channel_name, objective, goal from initiatives "
            "where user_id = ? order by id",
            (user.id,),
        ).fetchall()
        return tuple(Initiative(*row) for row in rows)

    def add_initiative(self, user: User, new: NewInitiative) -> None:
        self.execute(
            "insert into initiatives (user_id, name, channel_name, objective, goal, created_at) "
            "values (?, ?, ?, ?, ?, ?)",
            (user.id, new.name, new.channel, new.objective, new.goal, now_iso()),
        )

    def remove_initiative(self, user: User, initiative_id: int) -> None:
        self.execute(
            "delete from initiatives where id = ? and user_id = ?", (initiative_id, user.id)
        )

    # ---- personal re-check reminders --------------------------------------------------------
    def add_recheck(self, user: User, model_id: str, due_at: str) -> None:
        self.execute(
            "insert into recheck_reminders (channel, external_id, model_id, due_at, created_at) "
            "values (?, ?, ?, ?, ?)",
            (user.channel, user.external_id, model_id, due_at, now_iso()),
        )

    def claim_due_rechecks(
        self, channel: str, now: str, external_id: str | None = None
    ) -> list[tuple[str, str, str]]:
        """(external id, model id, created_at) of due reminders, marked sent in the same step;
        rows another worker is claiming are skipped, not waited for (each is sent once)."""
        sql = (
            "select id, external_id, model_id, created_at from recheck_reminders "
            "where channel = ? and sent_at is null and due_at <= ?"
        )
        params: tuple[str, ...] = (channel, now)
        if external_id is not None:
            sql, params = sql + " and external_id = ?", (*params, external_id)
        with self.transaction():
            rows = self.execute(sql + " order by id" + self.dialect.skip_locked, params).fetchall()
            for row in rows:
                self.execute("update recheck_reminders set sent_at = ? where id = ?", (now, row[0]))
        return [(external, model, created) for _, external, model, created in rows]

    # ---- deduplication of platform deliveries --------------------------------------------
    def first_delivery(self, channel: str, event_key: str) -> bool:
        """Record a platform event id; False when it was processed before (a redelivery)."""
        cursor = self.execute(
            "insert into processed_events (channel, event_key, processed_at) "
            "values (?, ?, ?) on conflict do nothing",
            (channel, event_key, now_iso()),
        )
        return cursor.rowcount == 1

    # ---- direct-message channels a platform opened for a member --------------------------
    def dm_channel(self, channel: str, member: str) -> str | None:
        row = self._one(
            "select dm from dm_channels where channel = ? and member = ?", (channel, member)
        )
        return row[0] if row else None

    def save_dm_channel(self, channel: str, member: str, dm: str) -> None:
        with self.transaction():
            self.execute(
                "insert into dm_channels (channel, member, dm, updated_at) values (?, ?, ?, ?) "
                "on conflict(channel, member) do update set dm = excluded.dm, "
                "updated_at = excluded.updated_at",
                (channel, member, dm, now_iso()),
            )

    # ---- the Home view last published to a member ----------------------------------------
    def home_view_digest(self, channel: str, member: str) -> str | None:
        row = self._one(
            "select digest from home_views where channel = ? and member = ?", (channel, member)
        )
        return row[0] if row else None

    def claim_home_view(self, channel: str, member: str, digest: str) -> bool:
        """Record `digest` as the member's published view; False when it already was (another
        thread publishes it, or did), so an unchanged view is published once, not per trigger.
        Only while the member is a user: a view is never recorded for someone just erased."""
        with self.transaction():
            cursor = self.execute(
                "insert into home_views (channel, member, digest, published_at) "
                "select ?, ?, ?, ? where exists "
                "(select 1 from users where channel = ? and external_id = ?) "
                "on conflict(channel, member) do update set "
                "digest = excluded.digest, published_at = excluded.published_at "
                "where home_views.digest != excluded.digest",
                (channel, member, digest, now_iso(), channel, member),
            )
            return cursor.rowcount == 1

    def release_home_view(self, channel: str, member: str, digest: str) -> None:
        """Forget a claimed view that was not published, so the next trigger publishes it."""
        with self.transaction():
            self.execute(
                "delete from home_views where channel = ? and member = ? and digest = ?",
                (channel, member, digest),
            )

    def first_signed_request(self, signature: str, request_ts: int, *, oldest: int) -> bool:
        """Record a verified request's signature; False when it was applied before (a replay).
        Signatures of requests older than `oldest` (a Unix time) are dropped: past the replay
        window their timestamp alone gets them refused."""
        with self.transaction():
            self.execute("delete from seen_requests where request_ts < ?", (oldest,))
            cursor = self.execute(
                "insert into seen_requests (signature, request_ts, seen_at) "
                "values (?, ?, ?) on conflict do nothing",
                (signature, request_ts, now_iso()),
            )
            return cursor.rowcount == 1


def _past(rows: Iterable[tuple[str, str, str, str]]) -> tuple[PastResult, ...]:
    return tuple(
        PastResult(aid, model_id, created, StoredResult.from_json(json.loads(detail)))
        for aid, model_id, created, detail in rows
    )
