"""The pulse core is channel-free: it imports neither Slack nor Telegram code."""

from __future__ import annotations

import subprocess
import sys


def test_pulse_core_imports_no_channel():
    code = (
        "import sys, bot.pulse.service, flows.pulse, bot.pulse.report; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('slack_bolt', 'slack_sdk', "
        "'telegram') or m.startswith(('bot.slack', 'bot.telegram'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
