"""The wheel's build hook: it ships the parser's LALR tables, built from `grammar/aicr.lark` by the
Lark of the build environment, as `aicrc/compiler/syntax/aicr.tables` (see that folder's
`tables.py`, which this hook loads by its path and which imports nothing of aicrc). An installed
aicrc then loads the tables instead of building the parser from the grammar on its first parse.

It also ships the standard library and the recipes already parsed, as `aicr.asts` beside the
tables (see `preparsed.py`), and the digests of their manifests that the loader's YAML check passes,
as `aicrc/compiler/load/manifests.valid` (see `known_manifests.py`). Those take aicrc's own code,
so they are written by a child Python that imports the source tree, keeping aicrc's modules out of
the build's process.

Editable installs import the source tree, which has none of these: they build the parser once and
keep its tables in the cache, parse every file and check every manifest.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TABLES = "aicrc/compiler/syntax/aicr.tables"
ASTS = "aicrc/compiler/syntax/aicr.asts"
MANIFESTS = "aicrc/compiler/load/manifests.valid"


class ParserTablesHook(BuildHookInterface):
    PLUGIN_NAME = "parser-tables"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        source = os.path.join(self.root, "aicrc", "compiler", "syntax", "tables.py")
        spec = importlib.util.spec_from_file_location("aicrc_build_tables", source)
        assert spec is not None and spec.loader is not None
        tables = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tables)
        self._scratch = tempfile.TemporaryDirectory(prefix="aicrc-tables-")
        out = os.path.join(self._scratch.name, "aicr.tables")
        tables.write(os.path.join(self.root, "grammar", "aicr.lark"), out)
        build_data["force_include"][out] = TABLES
        asts = os.path.join(self._scratch.name, "aicr.asts")
        manifests = os.path.join(self._scratch.name, "manifests.valid")
        env = {key: value for key, value in os.environ.items() if not key.startswith("AICRC_")}
        # The checkout's own code first, then what this build process imports from: an isolated build
        # environment (pip's) holds Lark, the hook's dependency, only on this process's path.
        search = os.pathsep.join([self.root, *(folder for folder in sys.path if folder)])
        env.update(PYTHONPATH=search, AICRC_NO_CACHE="1")  # the checkout's own library, parsed afresh
        subprocess.run([sys.executable, "-m", "aicrc.compiler.prebuilt", asts, manifests], env=env, cwd=self.root, check=True)
        build_data["force_include"][asts] = ASTS
        build_data["force_include"][manifests] = MANIFESTS

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            scratch.cleanup()
