"""The database server goes away while people use the bot (PostgreSQL refuses connections and
its open ones are cut): each person is told that their message was not saved, in their
language, instead of hearing nothing; nothing half-done is stored; and once the server is back
the bot answers as before. (The dashboard's page for this is in tests/test_web_review.py.)"""

from __future__ import annotations

from bot.storage import Storage
from flows.i18n import t
from tests.fake_slack import FakeSlack
from tests.postgres_server import database_gone
from tests.test_web_signin import SlackWithDashboard


def test_slack_says_not_saved_while_the_database_is_gone_and_goes_on_after(postgres_url, models):
    storage = Storage(postgres_url)
    with FakeSlack() as fake:
        rig = SlackWithDashboard(fake, storage, models)
        try:
            mark = fake.mark()
            assert rig.send.command("help", "U7").status_code == 200
            fake.wait_for("chat.postMessage", after=mark)
            mark = fake.mark()
            with database_gone(postgres_url):
                assert rig.send.command("start groeimodel", "U7").status_code == 200
                said = fake.wait_for("chat.postMessage", after=mark, timeout=60)  # the pool waits
            assert t("not_saved", "en") in said.text_of_blocks() + said.params.get("text", "")
            assert storage._rows("select count(*) as n from assessments")[0]["n"] == 0

            mark = fake.mark()
            assert rig.send.command("start groeimodel", "U7").status_code == 200
            question = fake.wait_for(
                "chat.postMessage", lambda c: "Question 1" in c.params.get("text", ""), after=mark
            )
            assert question.params["channel"] == "DU7"
        finally:
            rig.stack.close()
    storage.close()


def test_telegram_says_not_saved_while_the_database_is_gone_and_goes_on_after(postgres_url, models):
    from tests.fake_telegram import FakeTelegram, TgUser
    from tests.telegram_rig import Rig

    with FakeTelegram() as fake:
        rig = Rig(fake, postgres_url, models)
        try:
            user = TgUser(3201)
            mark = fake.mark()
            fake.send(user, "/help")
            fake.wait_message(user.id, after=mark)
            mark = fake.mark()
            with database_gone(postgres_url):
                fake.send(user, "/start groeimodel")
                said = fake.wait_message(
                    user.id, lambda m: t("not_saved", "en") in m.shown(), after=mark, timeout=60
                )
            assert said.from_bot

            mark = fake.mark()
            fake.send(user, "/start groeimodel")
            assert rig.message(user, "Question 1", after=mark)
        finally:
            rig.stop()
