"""Benchmark: one pulse round fanned out to a 1,000-member Telegram group.

The real path: PulseService.tick -> TelegramTeamMessenger -> PTB's Bot with the bot's rate
limiter (RetryingRateLimiter: a steady 30 messages a second overall) and the pulse's ChatPacer
(one message a second per chat), against the fake Bot API from tests/fake_telegram.py on
127.0.0.1. Each member gets three messages (the invitation, the model's introduction and the
first question), so 1,000 members take at least 100 s at Telegram's limits. `--scale`
multiplies the limits (and divides the pacing) to make a run shorter; the ratio "send time /
rate-limit minimum" carries over.

Printed: the messages sent, errors and 429s (a good run has none), members who got their pulse
exactly once (all), the most messages in any one-second window (about the rate), the closest two
messages into one chat came (at least about the pacing), and the send time against the minimum
(messages / rate).

    python bench/telegram_pulse_fanout.py [--members 1000] [--scale 1]

Never run as a test; it stops by itself.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.pulse.service import PulseSettings  # noqa: E402
from flows.model_loader import load_models, load_scan  # noqa: E402
from tests.fake_telegram import BOT_USERNAME, FakeTelegram, TgChat, TgUser  # noqa: E402
from tests.telegram_rig import Rig  # noqa: E402

GROUP = TgChat(-1009000, "supergroup", "Bench team")
LEAD = TgUser(90, "Lead")
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday
RATE = 30.0
"""Telegram: about 30 messages a second per bot."""
PER_CHAT = 1.0
"""Telegram: about one message a second per chat."""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply Telegram's limits")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rate, pace = RATE * args.scale, PER_CHAT / args.scale

    models = load_models()
    clock = Clock(START)
    with FakeTelegram() as fake, tempfile.TemporaryDirectory() as workdir:
        rig = Rig(
            fake,
            Path(workdir) / "bench.db",
            models,
            scan=load_scan(models),
            pulse_settings=PulseSettings(),
            clock=clock,
            pace=pace,
            # the bot's own limiter settings (a steady overall rate), scaled
            limits={
                "overall_max_rate": 1,
                "overall_time_period": 1 / rate,
                "group_max_rate": 20 * args.scale,
            },
        )
        try:
            fake.set_member(GROUP, LEAD, "administrator")
            mark = rig.say(LEAD, f"/pulse@{BOT_USERNAME} start groeimodel weekly", chat=GROUP)
            fake.wait_message(GROUP.id, lambda m: "Pulse started" in m.text, after=mark)
            members = [TgUser(100_000 + i) for i in range(args.members)]
            for member in members:  # each pressed Start once and joined
                fake.send(member, "/start pulse", deliver=False)
                rig.pulse.join("telegram", str(GROUP.id), GROUP.title, str(member.id), "en")

            clock.now = START + timedelta(days=7)
            mark = fake.mark()
            began = time.monotonic()
            rig.tick(timeout=3600)
            elapsed = time.monotonic() - began
            calls = [c for c in fake.calls[mark:] if c.method == "sendMessage"]
        finally:
            rig.stop()

    sent = [c for c in calls if c.ok]
    failed = [c for c in calls if not c.ok]
    per_chat: dict[str, list[float]] = defaultdict(list)
    invited: dict[str, int] = defaultdict(int)
    for call in sent:
        per_chat[call.params["chat_id"]].append(call.at)
        invited[call.params["chat_id"]] += call.params["text"].startswith("Pulse for ")
    times = sorted(c.at for c in sent)
    window = max(
        (sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times)), default=0
    )
    spacing = min(
        (b - a for stamps in per_chat.values() for a, b in zip(stamps, stamps[1:], strict=False)),
        default=float("nan"),
    )
    minimum = len(sent) / rate
    once = sum(1 for m in members if invited.get(str(m.id)) == 1)
    print(f"members                        {args.members}")
    print(f"limits                         {rate:g} msg/s overall, {pace:g} s per chat")
    print(f"messages sent                  {len(sent)}")
    print(f"failed / 429                   {len(failed)} / {sum(c.status == 429 for c in calls)}")
    print(f"members with one invitation    {once}")
    print(f"most messages in 1 s           {window}")
    print(f"closest two in one chat        {spacing:.3f} s")
    print(f"send time                      {elapsed:.1f} s")
    print(f"rate-limit minimum             {minimum:.1f} s")
    print(f"ratio                          {elapsed / minimum:.2f}")
    return 0 if once == args.members and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
