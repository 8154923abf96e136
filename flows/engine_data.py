"""What crosses the engine's boundary: the conversation as stored, the inputs the service loads,
the effects it must write and the outcome of one event. Plain frozen values, so bot/ can store
them and the turn seams can share them without importing one another."""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.initiatives import Initiative, NewInitiative
from flows.replies import Reply
from flows.results import PastResult, StoredResult


@dataclass(frozen=True)
class Conversation:
    """What is remembered about a user's conversation between events (one row in storage)."""

    state: str = "idle"
    lang: str = "en"
    model_id: str | None = None
    assessment_id: str | None = None
    question_id: str | None = None


@dataclass(frozen=True)
class OpenAssessment:
    id: str
    model_id: str
    answers: dict[str, str | None]
    """question id -> option id; None where the user skipped the question."""


HISTORY_PAGE_SIZE = 20
"""Results per /history page and in the Slack Home tab: a long history is read a page at a time."""


@dataclass(frozen=True)
class HistoryPage:
    """One page of a user's results, newest first, and where it sits among all of them."""

    results: tuple[PastResult, ...]
    number: int
    """1-based: page 1 holds the newest results."""
    total: int
    """How many results the user has in all."""
    size: int = HISTORY_PAGE_SIZE

    @property
    def first(self) -> int:
        """The position (1-based, newest first) of the page's first result."""
        return (self.number - 1) * self.size + 1

    @property
    def has_more(self) -> bool:
        """Whether older results follow on the next page."""
        return self.number * self.size < self.total


@dataclass(frozen=True)
class Inputs:
    """What the service loads from storage for one event."""

    open_assessments: dict[str, OpenAssessment] = field(default_factory=dict)
    """Unfinished assessments by model id."""
    history: tuple[PastResult, ...] | None = None
    """Each model's latest result, newest first; loaded only for /result."""
    history_page: HistoryPage | None = None
    """The page of results /history asked for; loaded only for /history."""
    new_assessment_id: str = "0"
    """An id to use if this event starts an assessment (ids are made by the caller)."""
    initiatives: tuple[Initiative, ...] = ()
    """The user's initiatives, oldest first; loaded only for /initiatives."""


# Effects: what the service writes, in order, in the event's transaction.
@dataclass(frozen=True)
class CreateAssessment:
    assessment_id: str
    model_id: str


@dataclass(frozen=True)
class SaveAnswer:
    assessment_id: str
    question_id: str
    option_id: str | None


@dataclass(frozen=True)
class FinishAssessment:
    assessment_id: str
    model_id: str
    result: StoredResult


@dataclass(frozen=True)
class AbandonAssessment:
    assessment_id: str


@dataclass(frozen=True)
class SetLanguage:
    lang: str


@dataclass(frozen=True)
class AddInitiative:
    initiative: NewInitiative


@dataclass(frozen=True)
class RemoveInitiative:
    initiative_id: int


@dataclass(frozen=True)
class ScheduleRecheck:
    model_id: str
    months: int


Effect = (
    CreateAssessment
    | SaveAnswer
    | FinishAssessment
    | AbandonAssessment
    | SetLanguage
    | AddInitiative
    | RemoveInitiative
    | ScheduleRecheck
)


@dataclass(frozen=True)
class Outcome:
    conversation: Conversation
    replies: tuple[Reply, ...]
    effects: tuple[Effect, ...]
