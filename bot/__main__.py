"""`python -m bot` is the same as `maturity-bot`."""

from bot.cli import main

raise SystemExit(main())
