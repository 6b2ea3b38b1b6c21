"""Build hook: ship the top-level ``styles/`` directory inside the wheel as ``agent_tui/styles``."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithStyles(build_py):
    def run(self) -> None:
        super().run()
        source = Path(__file__).parent / "styles"
        target = Path(self.build_lib) / "agent_tui" / "styles"
        target.mkdir(parents=True, exist_ok=True)
        for sheet in source.glob("*.tcss"):
            shutil.copy2(sheet, target / sheet.name)


setup(cmdclass={"build_py": BuildWithStyles})
