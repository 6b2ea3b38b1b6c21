"""One subtask status update, in a tree of 100 vs 2 000 subtasks (target: flat)."""

from __future__ import annotations

import asyncio
import time

from textual.app import App, ComposeResult

from agent_tui.tui.widgets.subtask_tree import SubtaskTree
from benchmarks.common import big_plan, parser, plan_view

UPDATES = 200


class TreeApp(App):
    def compose(self) -> ComposeResult:
        yield SubtaskTree()


async def per_update(subtasks: int) -> float:
    plan = big_plan(subtasks)
    ids = [s["id"] for p in plan["phases"] for s in p["subtasks"]]
    app = TreeApp()
    async with app.run_test(size=(100, 40)) as pilot:
        tree = app.query_one(SubtaskTree)
        tree.show_plan(plan_view(plan))
        await pilot.pause()
        start = time.perf_counter()
        for n in range(UPDATES):
            tree.update_subtask(ids[(n * 7) % len(ids)], status="completed", attempts=1)
            await pilot.pause()
        return (time.perf_counter() - start) / UPDATES


async def main() -> None:
    small = await per_update(100)
    large = await per_update(2000)
    print(
        f"tree update: 100 subtasks {small * 1000:.2f} ms, 2000 subtasks {large * 1000:.2f} ms, "
        f"ratio {large / small:.2f}x"
    )


if __name__ == "__main__":
    parser(__doc__, "tree_updates").parse_args()
    asyncio.run(main())
