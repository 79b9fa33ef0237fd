"""One view (a saved ticket filter) in the queue screen's sidebar, with its count."""

from __future__ import annotations

from typing import Any, Optional

from textual.widgets import Label, ListItem


class ViewItem(ListItem):
    def __init__(self, view: Any) -> None:
        super().__init__(Label(view.title, markup=False))
        self.view = view
        self.count: Optional[int] = None

    def set_count(self, n: int) -> None:
        self.count = n
        self.query_one(Label).update(f"{self.view.title}  {n}")
