"""What the wheel's build hook runs, in a child Python over the checkout, to write the work an
installed aicrc finds done (as Python finds bytecode): the standard library and the recipes
parsed (`syntax.preparsed`) and their manifests checked (`load.known_manifests`).

    python -m aicrc.compiler.prebuilt ASTS_FILE MANIFESTS_FILE
"""

from __future__ import annotations

import sys

from aicrc.compiler.load import known_manifests, resolve
from aicrc.compiler.syntax import parser, preparsed


def main(asts: str, manifests: str) -> None:
    preparsed.write(asts, parser.parse)
    known_manifests.write(manifests, resolve.yaml_problem)


if __name__ == "__main__":
    main(*sys.argv[1:])
