"""Team pulse checks in Telegram, end to end: the real PTB Application against the fake Bot API,
a group whose admin runs `/pulse`, members who join with the button and answer in their private
chats, and the pulse clock under the test's control (`Rig.tick` at a set time, no sleeping).

Also the Telegram side of the quick scan and the initiatives matrix (issue 6)."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.pulse.service import PulseSettings
from bot.telegram.pulse import ChatPacer
from bot.telegram.render import DATA_PULSE_JOIN
from bot.telegram.texts import tt
from flows.i18n import t
from tests.fake_telegram import (
    ANONYMOUS_ADMIN_ID,
    BOT_USERNAME,
    TOKEN,
    FakeTelegram,
    Msg,
    TgChat,
    TgUser,
)
from tests.telegram_rig import (
    Rig,
    free_port,
    is_question,
    start_command,
    stop_command,
    wait_until,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
DUE = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Amsterdam
GROUP = TgChat(-1001500, "supergroup", "Team A")
LEAD = TgUser(500, "Lead")
MEMBERS = [TgUser(501 + i, f"Member {i + 1}") for i in range(6)]
MODEL = "groeimodel"
ROOT = Path(__file__).resolve().parent.parent


class Clock:
    """The pulse's clock: the test moves it; the bot reads it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake():
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def rig(fake, tmp_path, models, scan, clock):
    bot = Rig(
        fake,
        tmp_path / "bot.db",
        models,
        scan=scan,
        pulse_settings=PulseSettings(min_responses=5),
        clock=clock,
    )
    yield bot
    bot.stop()


# ---- what people do ------------------------------------------------------------------------------
def in_group(rig: Rig, user: TgUser, text: str, contains: str) -> Msg:
    """`user` types `text` in the group; returns the bot's answer there that says `contains`."""
    mark = rig.say(user, text, chat=GROUP)
    return rig.fake.wait_message(GROUP.id, lambda m: contains in m.shown(), after=mark)


def start_pulse(rig: Rig, fake: FakeTelegram) -> Msg:
    """The admin starts a weekly pulse (Tuesday 10:00); returns the message with the button."""
    fake.set_member(GROUP, LEAD, "administrator")
    started = in_group(
        rig, LEAD, f"/pulse@{BOT_USERNAME} start {MODEL} weekly tue 10:00", "Pulse started"
    )
    assert started.button_texts == [t("pulse_join_button", "en")]
    assert rig.pulse.join_prompt("en") in started.text
    return started


def open_private_chat(rig: Rig, user: TgUser) -> None:
    """The user presses Start in their private chat with the bot (only then can it write)."""
    mark = rig.say(user, "/start")
    rig.message(user, t("welcome", "en"), after=mark)


def join(rig: Rig, fake: FakeTelegram, user: TgUser, button: Msg) -> dict:
    """`user` presses the join button in the group; returns the notice they saw."""
    mark = rig.press(user, button, data=DATA_PULSE_JOIN)
    fake.wait_for("answerCallbackQuery", after=mark)
    return fake.toasts[-1]


def pulse_questions(rig: Rig) -> int:
    return len(rig.pulse.pulse_models[MODEL + "_pulse"].questions)


def answer_pulse(rig: Rig, user: TgUser, index: int, after: int) -> Msg:
    """Press button `index` on every pulse question sent from call `after` on; returns the
    result message the member gets at the end."""
    message = rig.question(user, after=after)
    for number in range(pulse_questions(rig)):
        mark = rig.press(user, message, index=index)
        if number < pulse_questions(rig) - 1:
            message = rig.question(user, after=mark)
    return rig.message(user, t("result_footer", "en"), after=mark)


def invite_text(user_id: int, fake: FakeTelegram, after: int = 0) -> list[str]:
    return [
        m.text
        for m in fake.sent(user_id, after=after)
        if m.text and m.text.startswith("Pulse for Team A")
    ]


def reminders(user_id: int, fake: FakeTelegram, after: int = 0) -> list[str]:
    opening = t("pulse_reminder", "en", team="Team A", when="").split(" on ")[0]
    return [m.text for m in fake.sent(user_id, after=after) if m.text and opening in m.text]


def run_round(rig: Rig, fake: FakeTelegram, clock: Clock, choices: list[int | None]) -> int:
    """A whole round for MEMBERS: start, join, open at the due time, answer (`choices[i]` is the
    button member i presses on every question; None: no answer), remind, close. Returns the
    call mark from before the round closed."""
    button = start_pulse(rig, fake)
    for member in MEMBERS:
        open_private_chat(rig, member)
        toast = join(rig, fake, member, button)
        assert toast["text"] == t("pulse_joined", "en", team="Team A")
        rig.message(member, t("pulse_joined", "en", team="Team A"))  # and privately
    assert [m.message_id for m in fake.sent(GROUP.id)] == [button.message_id]  # a quiet group

    mark = fake.mark()
    rig.tick()  # Monday: nothing is due yet
    assert all(not fake.sent(m.id, after=mark) for m in MEMBERS)

    clock.now = DUE + timedelta(seconds=30)
    mark = fake.mark()
    rig.tick()
    for member in MEMBERS:  # each gets the pulse in their private chat, the questions as buttons
        (invite,) = invite_text(member.id, fake, after=mark)
        assert f"{pulse_questions(rig)} short questions" in invite
        assert "anonymous" in invite
        assert is_question(rig.question(member, after=mark))
    assert rig.rows("select count(*) from rounds") == [(1,)]

    for member, choice in zip(MEMBERS, choices, strict=True):
        if choice is not None:
            answer_pulse(rig, member, choice, after=mark)

    clock.now += timedelta(hours=25)
    mark = fake.mark()
    rig.tick()  # the reminder, to those who have not answered only
    for member, choice in zip(MEMBERS, choices, strict=True):
        assert len(reminders(member.id, fake, after=mark)) == (choice is None), member
        if choice is None:  # with the question to answer right there
            assert is_question(rig.question(member, after=mark))
    assert not fake.sent(GROUP.id, after=mark)

    clock.now += timedelta(hours=24)
    mark = fake.mark()
    rig.tick()  # the deadline: the round closes and the group gets the result
    return mark


# ---- the round -----------------------------------------------------------------------------------
def test_a_weekly_pulse_round_in_a_group(rig, fake, clock, models):
    """Five of six answer (K=5): the group gets the count, the median, the spread and a chart."""
    mark = run_round(rig, fake, clock, [0, 0, 2, 2, 2, None])
    model = models[MODEL]
    report = fake.wait_message(GROUP.id, lambda m: m.text is not None, after=mark)
    assert report.text.startswith(t("pulse_report_title", "en", team="Team A", model=model.name.en))
    assert "5 of 6 members answered (83%)" in report.text
    # median of phases [0, 0, 2, 2, 2] is the third phase
    assert t("pulse_report_phase", "en", phase=model.phases[2].name.en) in report.text
    spread = report.text.split(t("pulse_report_distribution", "en"))[1]
    for phase, count in zip(model.phases, (2, 0, 3, 0), strict=True):
        assert f"{phase.name.en}: {count}" in spread
    photo = fake.wait_message(GROUP.id, lambda m: m.photo is not None, after=mark)
    assert photo.photo.startswith(b"\x89PNG")
    assert photo.caption == report.text.split("\n")[0]
    assert len(fake.sent(GROUP.id, after=mark)) == 2
    for member in MEMBERS:  # nobody's answers reach the group: only counts
        assert member.first_name not in report.text
    stored = rig.pulse.reports("telegram", str(GROUP.id))[0].report
    assert stored.distribution == (2, 0, 3, 0) and stored.median_index == 2

    # the admin's export shows the stored aggregates; a member gets a refusal
    exported = in_group(rig, LEAD, "/pulse report", "5 of 6 members answered")
    assert f"{model.phases[2].name.en}: 3" in exported.text
    in_group(rig, MEMBERS[0], "/pulse report", t("pulse_not_admin", "en"))


def test_the_round_closes_as_soon_as_the_last_member_answers(rig, fake, clock):
    """No tick after the answers: the last one closes the round and the group gets the result."""
    button = start_pulse(rig, fake)
    for member in MEMBERS:
        open_private_chat(rig, member)
        join(rig, fake, member, button)
    clock.now = DUE + timedelta(seconds=30)
    mark = fake.mark()
    rig.tick()
    for member in MEMBERS[:-1]:
        answer_pulse(rig, member, 0, after=mark)
    assert rig.rows("select status from rounds") == [("open",)]
    answer_pulse(rig, MEMBERS[-1], 0, after=mark)
    report = fake.wait_message(
        GROUP.id, lambda m: m.text is not None and "members answered" in m.text, after=mark
    )
    assert f"{len(MEMBERS)} of {len(MEMBERS)} members answered (100%)" in report.text
    assert rig.rows("select status from rounds") == [("closed",)]


def test_below_k_the_group_sees_only_the_count(rig, fake, clock, models):
    """Four of six answer (K=5): the group sees "4 of 6" and that results show from 5 answers
    on; no phase, no spread and no chart."""
    mark = run_round(rig, fake, clock, [1, 1, 2, 3, None, None])
    report = fake.wait_message(GROUP.id, lambda m: m.text is not None, after=mark)
    assert "4 of 6 members answered (67%)" in report.text
    assert t("pulse_report_withheld", "en", k=5) in report.text
    for phase in models[MODEL].phases:
        assert phase.name.en not in report.text
    rig.tick()
    assert [m.message_id for m in fake.sent(GROUP.id, after=mark)] == [report.message_id]
    assert not fake.calls_to("sendPhoto", after=mark)
    stored = rig.pulse.reports("telegram", str(GROUP.id))[0].report
    assert stored.withheld and stored.distribution == () and stored.median_index is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics")
def test_a_pulse_command_the_disk_cannot_take_is_said_in_the_group(rig, fake):
    """A full disk: `/pulse start` gets the answer that it was not saved, and no pulse runs."""
    from tests.test_bad_environments import files_limited_to

    fake.set_member(GROUP, LEAD, "administrator")
    in_group(rig, LEAD, "/pulse status", "")  # the database is past the limit below by now
    with files_limited_to(4096):
        in_group(rig, LEAD, f"/pulse start {MODEL} weekly", t("not_saved", "en"))
    assert rig.rows("select count(*) from pulses") == [(0,)]
    start_pulse(rig, fake)  # room again


def test_only_an_admin_starts_and_exports(rig, fake):
    member, outsider = MEMBERS[0], MEMBERS[1]
    fake.set_member(GROUP, member, "member")
    fake.set_member(GROUP, outsider, "left")
    for who in (member, outsider):
        in_group(rig, who, f"/pulse start {MODEL} weekly", t("pulse_not_admin", "en"))
        in_group(rig, who, "/pulse report", t("pulse_not_admin", "en"))
    assert rig.rows("select count(*) from pulses") == [(0,)]
    checked = fake.calls_to("getChatMember")
    assert {c.params["user_id"] for c in checked} == {str(member.id), str(outsider.id)}

    fake.set_member(GROUP, LEAD, "creator")  # the group's owner is an admin too
    in_group(rig, LEAD, f"/pulse start {MODEL} monthly", "Pulse started")
    in_group(rig, member, "/pulse stop", t("pulse_not_admin", "en"))
    assert rig.rows("select status, cadence from pulses") == [("active", "monthly")]
    status = in_group(rig, member, "/pulse status", "Next round")  # anyone may look
    assert "Members: 0" in status.text


def test_a_restart_before_the_due_time_still_runs_the_round_once(rig, fake, clock):
    """The bot restarts between `/pulse start` and the round, and is down when the round falls
    due: the scheduler of the new process runs it at start, once, however often it ticks."""
    button = start_pulse(rig, fake)
    for member in MEMBERS:
        open_private_chat(rig, member)
        join(rig, fake, member, button)
    rig.pulse_interval = 3600  # from now on the scheduler runs (first tick at start)
    mark = fake.mark()
    rig.restart()  # before the due time: the first tick finds nothing to do
    rig.tick()
    assert all(not fake.sent(m.id, after=mark) for m in MEMBERS)

    rig.stop()
    clock.now = DUE + timedelta(hours=3)  # the bot was down over the due time
    rig.start()
    for member in MEMBERS:  # the scheduler's first tick sends the round
        fake.wait_message(member.id, lambda m: m.text and "Pulse for Team A" in m.text, after=mark)
    rig.tick()
    rig.restart()
    rig.tick()
    for member in MEMBERS:
        assert len(invite_text(member.id, fake, after=mark)) == 1
    assert rig.rows("select count(*) from rounds") == [(1,)]
    assert rig.rows("select count(*) from round_invites where sent_at is not null") == [(6,)]
    (due,) = rig.rows("select next_run_at from pulses")[0]
    assert due.startswith("2026-12-01")


# ---- joining -------------------------------------------------------------------------------------
def test_a_member_the_bot_cannot_message_yet_is_sent_to_start(rig, fake, clock):
    """Bots may only write to people who pressed Start: the join notice links there. A round
    that opens before they did tries again at the next tick, and then reaches them."""
    button = start_pulse(rig, fake)
    newcomer = MEMBERS[0]
    mark = fake.mark()
    toast = join(rig, fake, newcomer, button)
    assert toast["text"] == tt("pulse_open_chat", "en")
    assert toast["url"] == f"https://t.me/{BOT_USERNAME}?start=pulse"
    assert [c.status for c in fake.calls_to("sendMessage", after=mark)] == [403]
    assert not fake.sent(GROUP.id, after=mark)
    assert rig.rows("select member from team_members") == [(str(newcomer.id),)]

    clock.now = DUE
    mark = fake.mark()
    rig.tick()  # the round opens; Telegram refuses the invitation
    assert [c.status for c in fake.calls_to("sendMessage", after=mark)] == [403]
    assert rig.rows("select sent_at from round_invites") == [(None,)]

    mark = rig.say(newcomer, "/start pulse")  # what the link sends
    rig.message(newcomer, tt("pulse_ready", "en"), after=mark)
    clock.now += timedelta(minutes=1)
    rig.tick()
    rig.tick()
    assert len(invite_text(newcomer.id, fake, after=mark)) == 1
    assert is_question(rig.question(newcomer, after=mark))


def test_pulse_join_typed_in_the_group_joins_and_shows_the_button(rig, fake):
    member = MEMBERS[0]
    open_private_chat(rig, member)
    mark = rig.say(member, "/pulse join", chat=GROUP)
    prompt = fake.wait_message(GROUP.id, after=mark)
    assert prompt.text == rig.pulse.join_prompt("en")
    join_button = {"text": t("pulse_join_button", "en"), "callback_data": DATA_PULSE_JOIN}
    assert prompt.buttons == [join_button]
    rig.message(member, t("pulse_joined", "en", team="Team A"), after=mark)
    other = MEMBERS[1]
    open_private_chat(rig, other)
    join(rig, fake, other, prompt)
    joined = rig.rows("select member from team_members order by member")
    assert joined == [(str(member.id),), (str(other.id),)]
    again = join(rig, fake, other, prompt)  # pressing twice joins once
    assert again["text"] == t("pulse_joined", "en", team="Team A")
    assert rig.rows("select count(*) from team_members") == [(2,)]


# ---- the surface ---------------------------------------------------------------------------------
def test_pulse_in_a_private_chat_points_to_a_group(rig, fake):
    dutch, english = TgUser(510, language_code="nl"), TgUser(511)
    for user, lang in ((dutch, "nl"), (english, "en")):
        mark = rig.say(user, "/pulse start groeimodel weekly")
        rig.message(user, tt("pulse_group_only", lang), after=mark)
    assert rig.rows("select count(*) from pulses") == [(0,)]


def test_pulse_commands_in_a_group_next_to_the_private_notice(rig, fake):
    user = MEMBERS[0]
    in_group(rig, user, "/pulse status", t("pulse_none", "en"))
    help_text = in_group(rig, user, "/pulse", "pulse start <model>")
    assert help_text.text.endswith(tt("pulse_help_note", "en"))
    in_group(rig, user, "/start", tt("private_only", "en"))  # other commands: go private
    mark = rig.say(user, "/pulse@SomeOtherBot status", chat=GROUP)
    probe = rig.say(user, "/pulse status", chat=GROUP)
    fake.wait_message(GROUP.id, lambda m: t("pulse_none", "en") in m.text, after=probe)
    assert len(fake.sent(GROUP.id, after=mark)) == 1  # the other bot's command was not ours


def test_a_large_team_gets_its_dms_once_through_a_429(rig, fake, clock):
    """Sixty members, and Telegram answers one send with 429 retry_after: the rate limiter
    waits and sends again; everyone gets the pulse exactly once."""
    team = [TgUser(700 + i) for i in range(60)]
    start_pulse(rig, fake)
    for member in team:
        fake.send(member, "/start pulse", deliver=False)  # the private chat exists
        rig.pulse.join("telegram", str(GROUP.id), "Team A", str(member.id), "en")
    clock.now = DUE
    fake.fail("sendMessage", 429, retry_after=1)
    mark = fake.mark()
    rig.tick()
    sends = fake.calls_to("sendMessage", after=mark)
    assert [c.status for c in sends].count(429) == 1
    for member in team:
        assert len(invite_text(member.id, fake, after=mark)) == 1
        assert sum(is_question(m) for m in fake.sent(member.id, after=mark)) == 1


def test_the_command_menu_has_the_new_commands_in_both_languages(rig, fake):
    for lang in ("en", "nl"):
        menu = {c["command"]: c["description"] for c in fake.commands[("default", lang)]}
        dutch = {"initiatives": "initiatieven", "remind": "herinner"} if lang == "nl" else {}
        for name in ("scan", "initiatives", "remind", "pulse"):
            assert menu[dutch.get(name, name)] == tt(f"cmd_{name}", lang)


def test_the_pacer_spaces_messages_per_chat_only():
    """One message a second into a chat, counted from when the previous one was sent; another
    chat does not wait for it."""
    now = [100.0]
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(round(seconds, 3))
        now[0] += seconds

    pacer = ChatPacer(1.0, clock=lambda: now[0], sleep=sleep)

    async def send(chat: int, takes: float = 0.0) -> None:
        async with pacer.turn(chat):
            now[0] += takes  # the request's own time (a queue in the rate limiter, the network)

    async def scenario() -> None:
        await send(1, takes=0.25)
        await send(2)  # another chat: no wait
        await send(1)  # a second after the first one was sent
        now[0] += 5
        await send(1)  # long after: no wait

    asyncio.run(scenario())
    assert waited == [1.0]


# ---- the scheduler in the running bot ------------------------------------------------------------
def test_the_scheduler_runs_in_webhook_mode(fake, tmp_path, models, scan, clock):
    from bot.telegram.app import WebhookConfig

    rig = Rig(fake, tmp_path / "bot.db", models, scan=scan, clock=clock)
    try:
        button = start_pulse(rig, fake)
        member = MEMBERS[0]
        open_private_chat(rig, member)
        join(rig, fake, member, button)
        rig.stop()
        port = free_port()
        rig.webhook = WebhookConfig(f"http://127.0.0.1:{port}/hook", "127.0.0.1", port, "s3cret")
        rig.pulse_interval = 3600
        clock.now = DUE
        mark = fake.mark()
        rig.start()  # the round is due: the first tick at start-up sends it
        rig.question(member, after=mark)
        assert len(invite_text(member.id, fake, after=mark)) == 1
        assert fake.webhook["url"] == rig.webhook.url
    finally:
        rig.stop()


# ---- issue 6 in Telegram: the quick scan and the initiatives matrix ------------------------------
def test_the_quick_scan_by_buttons_places_you_on_all_four_models(rig, fake, models, scan):
    user = TgUser(520)
    mark = rig.say(user, "/scan")
    message = rig.question(user, after=mark)
    for number in range(len(scan.questions)):
        mark = rig.press(user, message, index=0)
        if number < len(scan.questions) - 1:
            message = rig.question(user, after=mark)
    result = rig.message(user, t("scan_title", "en"), after=mark)
    for model_id in scan.models:
        model = models[model_id]
        assert f"{model.name.en}: {model.phases[0].name.en} (1 of {len(model.phases)})" in (
            result.text
        )
    assert "Your next implementation step: " in result.text


def test_the_initiatives_matrix_as_text_and_photo(rig, fake):
    user = TgUser(521)
    mark = rig.say(user, "/initiatives add Webcare; X; supporting; customer satisfaction")
    rig.message(user, "Added: Webcare", after=mark)
    mark = rig.say(user, "/initiatives add Monitor; Brandwatch; listening")
    rig.message(user, "Added: Monitor", after=mark)
    mark = rig.say(user, "/initiatives matrix")
    matrix = rig.message(user, t("matrix_header", "en"), after=mark)
    assert "customer satisfaction" in matrix.text
    assert t("matrix_flag_no_goal", "en", names="Monitor") in matrix.text
    photo = fake.wait_message(user.id, lambda m: m.photo is not None, after=mark)
    assert photo.photo.startswith(b"\x89PNG")
    assert photo.caption == t("matrix_chart_title", "en")
    wait_until(lambda: rig.rows("select count(*) from initiatives") == [(2,)])


# ---- `maturity-bot telegram` ---------------------------------------------------------------------
def test_the_command_runs_a_round_that_fell_due_and_stops_cleanly(fake, tmp_path, models, scan):
    """The real command, polling: its scheduler's first tick sends a round that fell due before
    it started; SIGTERM stops bot and scheduler with exit code 0."""
    db = tmp_path / "bot.db"
    week_ago = Clock(datetime.now(UTC) - timedelta(days=8))
    seeding = Rig(fake, db, models, scan=scan, clock=week_ago)
    button = start_pulse(seeding, fake)  # a week ago: the first round is due by now
    member = MEMBERS[0]
    open_private_chat(seeding, member)
    join(seeding, fake, member, button)
    seeding.stop()

    mark = fake.mark()
    process = start_command(fake, tmp_path, db=db)
    try:
        invite = fake.wait_message(
            member.id,
            lambda m: bool(m.text) and "Pulse for Team A" in m.text,
            after=mark,
            timeout=30,
        )
        assert "anonymous" in invite.text
        fake.wait_message(member.id, is_question, after=mark)
    finally:
        out, err = stop_command(process)
    assert process.returncode == 0, err
    assert "pulse scheduler started" in err
    assert "Traceback" not in err
    assert TOKEN not in out + err


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("MATURITY_PULSE_MIN_RESPONSES", "2", "MATURITY_PULSE_MIN_RESPONSES"),
        ("MATURITY_TIMEZONE", "Mars/Olympus", "MATURITY_TIMEZONE"),
    ],
)
def test_a_bad_pulse_setting_stops_the_command_before_the_database(
    monkeypatch, capsys, tmp_path, fake, name, value, named
):
    from bot.cli import main

    for variable in list(os.environ):
        if variable.startswith(("TELEGRAM_", "MATURITY_")):
            monkeypatch.delenv(variable)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_BASE_URL", fake.base_url)
    monkeypatch.setenv(name, value)
    code = main(["telegram", "--db", str(tmp_path / "bot.db")])
    err = capsys.readouterr().err
    assert code == 2
    assert named in err.splitlines()[-1]
    assert not (tmp_path / "bot.db").exists()
    assert not fake.calls


def test_an_anonymous_admin_runs_the_pulse_as_the_group(rig, fake):
    """An admin who remains anonymous writes as the group itself (from: GroupAnonymousBot),
    which only admins can; other bots are still ignored."""
    anonymous = TgUser(ANONYMOUS_ADMIN_ID, "Group", language_code=None, is_bot=True)
    mark = rig.say(anonymous, f"/pulse start {MODEL} weekly", chat=GROUP, as_chat=True)
    started = fake.wait_message(GROUP.id, lambda m: "Pulse started" in m.text, after=mark)
    assert started.button_texts == [t("pulse_join_button", "en")]
    assert not fake.calls_to("getChatMember")
    other_bot = TgUser(42, "Other bot", is_bot=True)
    mark = rig.say(other_bot, "/pulse stop", chat=GROUP)
    probe = rig.say(anonymous, "/pulse status", chat=GROUP, as_chat=True)
    fake.wait_message(GROUP.id, lambda m: "Next round" in m.text, after=probe)
    assert len(fake.sent(GROUP.id, after=mark)) == 1
    assert rig.rows("select status from pulses") == [("active",)]


def test_a_dutch_admin_gets_the_group_replies_in_dutch(rig, fake):
    lead = TgUser(530, "Leider", language_code="nl")
    fake.set_member(GROUP, lead, "administrator")
    started = in_group(rig, lead, f"/pulse start {MODEL} maandelijks di 10:00", "Pulse gestart")
    assert started.button_texts == [t("pulse_join_button", "nl")]
    assert rig.pulse.join_prompt("nl") in started.text
    help_text = in_group(rig, lead, "/pulse hulp", "pulse start <model>")
    assert help_text.text.endswith(tt("pulse_help_note", "nl"))
