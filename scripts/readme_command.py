"""Print one of the README's two Quickstart commands: ``run`` (the first) or ``test``
(the second). ``.ci/run`` and the README test use it, so the README cannot drift from
what CI runs."""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_commands(text: str | None = None) -> list[str]:
    text = README.read_text(encoding="utf-8") if text is None else text
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def main(argv: list[str]) -> int:
    which = argv[1] if len(argv) > 1 else "test"
    cmds = quickstart_commands()
    if len(cmds) != 2:
        print(f"README Quickstart must hold exactly two commands, found {len(cmds)}", file=sys.stderr)
        return 2
    print(cmds[0] if which == "run" else cmds[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
