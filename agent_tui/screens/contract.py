"""What a screen may ask of the app, written down as a Protocol instead of `app: Any`.

Screens never import the app (it imports them) nor each other: to go somewhere else they ask the
app (`open_ticket`, `open_lookup`); to change a ticket they ask it too (`change`, `claim`), and the
app queues the change through the cache and kicks a sync.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol


class DeskApp(Protocol):
    cache: Any  # storage.cache.Cache; screens read through it only what the app hands them
    views: list  # storage.cache.ViewSpec, in sidebar order
    start_view: str
    at_risk: float  # seconds: an SLA countdown under this shows as at risk
    settings: Any

    @property
    def me_id(self) -> Optional[int]: ...

    def clock(self) -> float: ...

    def change(self, ticket_ids: list[int], changes: dict) -> None: ...

    def change_each(self, changes_by_ticket: dict[int, dict]) -> None: ...

    def claim(self, ticket_ids: list[int]) -> None: ...

    def open_ticket(self, ticket_id: int) -> None: ...

    def open_lookup(self, ticket_id: int) -> None: ...

    def next_ticket(self, current: int) -> None: ...

    def presence(self, ticket_id: Optional[int]) -> Any: ...

    def refresh_status(self) -> None: ...

    def write(self, job: Any) -> None: ...  # a cache write (or a read that must follow the writes) in the one writer thread

    def remember_unsaved(self, ticket_id: int, draft: Optional[tuple]) -> None: ...

    def forget_unsaved(self, ticket_id: int, saved: tuple) -> None: ...

