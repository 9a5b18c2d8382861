"""Tables that stay readable in a narrow terminal (80 columns, a CI log, ``| less``).

Rich squeezes a table that is wider than the console by cutting cells and headings to
``tar… mat… cha…``. A :class:`ReadableTable` measures itself when printed: if its natural width
fits, it is an ordinary table; if not, each row becomes a block of ``heading  value`` lines
(values wrap, nothing is cut), the layout ``kubectl describe`` and ``psql \\x`` use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

Justify = Literal["left", "right"]


@dataclass
class ReadableTable:
    """``ReadableTable(title, [("target", "left"), ("read", "right"), …])``; ``add_row``
    takes plain strings (or Rich markup when ``markup=True``)."""

    title: str | None
    columns: Sequence[tuple[str, Justify]]
    markup: bool = False
    show_header: bool = True
    rows: list[Sequence[str]] = field(default_factory=list)

    def add_row(self, *cells: str) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(cells)

    def _cell(self, value: str) -> Text:
        return Text.from_markup(value) if self.markup else Text(value)

    def horizontal(self) -> Table:
        table = Table(show_header=self.show_header)
        for heading, justify in self.columns:
            table.add_column(heading, justify=justify, overflow="fold")
        for row in self.rows:
            table.add_row(*(self._cell(c) for c in row))
        return table

    def vertical(self) -> Table:
        """One block per row: heading and value side by side, a rule between blocks."""
        table = Table(show_header=False, show_lines=False)
        table.add_column("field", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")
        for number, row in enumerate(self.rows):
            last = number == len(self.rows) - 1
            for index, ((heading, _justify), cell) in enumerate(
                    zip(self.columns, row, strict=True)):
                table.add_row(heading, self._cell(cell),
                              end_section=index == len(self.columns) - 1 and not last)
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # The title on a line of its own: as a Rich table title it wraps to the table's
        # width, and a narrow table broke "dry run: nothing written" in two.
        if self.title:
            yield Text(self.title, style="table.title")
        yield self.layout(console, options)

    def layout(self, console: Console, options: ConsoleOptions) -> RenderableType:
        wide = self.horizontal()
        # The table's minimum width is where its longest words just fit (Rich clamps the
        # measure to the space given, so measure it unbounded): narrower, words would be cut.
        unbounded = options.update(max_width=1 << 16)
        if Measurement.get(console, unbounded, wide).minimum <= options.max_width:
            return wide
        return self.vertical()

    def __iter__(self) -> Iterator[Sequence[str]]:
        return iter(self.rows)
