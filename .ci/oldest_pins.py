"""Print the oldest versions pyproject.toml allows, as pip pins (one per line).

CI installs these and runs the suite a second time, so that every lower
bound in pyproject.toml is one that was tested.
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
for requirement in project["dependencies"]:
    match = re.match(r"^([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][^,;\s]*)", requirement)
    if match is None:
        sys.exit(f"no lower bound to test in {requirement!r}")
    print(f"{match.group(1)}=={match.group(2)}")
