"""Puts a benchmark's figures into README.md between its markers.

    python3 benchmarks/readme_figures.py NAME FILE

replaces what stands between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.
"""

import pathlib
import re
import sys


def replace_block(readme, name, figures):
    pattern = re.compile(r"(<!-- %s:begin -->\n).*?(<!-- %s:end -->)" % (name, name), re.S)
    if not pattern.search(readme):
        raise SystemExit("README.md has no %s markers" % name)
    return pattern.sub(lambda match: match.group(1) + figures.rstrip() + "\n" + match.group(2),
                       readme)


def main():
    name, source = sys.argv[1], pathlib.Path(sys.argv[2])
    readme = pathlib.Path(__file__).resolve().parent.parent / "README.md"
    readme.write_text(replace_block(readme.read_text(), name, source.read_text()))


if __name__ == "__main__":
    main()
