"""The `shouhu` console script: `manage.py` under the operator's name.

`shouhu places load FILE`, `shouhu import children FILE`, `shouhu gen --children N`,
`shouhu link files --left LEFT.csv --right RIGHT.csv --output LINKS.csv` (record linkage,
`shouhu.linkage`), ... Each is a management command of its app; `python -m shouhu.cli` runs
the same without the installed script.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouhu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["shouhu", *sys.argv[1:]])


if __name__ == "__main__":
    main()
