"""Deployment bundles: a compiled recipe turned into the files that install it.

Data flows one way: compiled recipe (the document `aicrc compile` writes, as plain data) ->
`recipe.Recipe` (this package's own view of it, checked for what a bundle needs) -> `files.Bundle`
(every file, in memory) -> `writer.write_bundle` (one atomic write). A bundle never sees the
sources or the AST, so `aicrc bundle --compiled FILE` gives the same bytes as bundling the recipe.

    recipe.py          the compiled recipe as bundles read it, and the names they can use
    compiled_file.py   a compiled recipe read back from a file, validated, with located errors
    files.py           the bundle model: relative path -> bytes and mode, in order
    build.py           deployers' files + recipe.yaml + checksums.txt; several deployers side by side,
                       the GitOps ones given the Git repository the bundle is pushed to
    deployers/         one module per deployer (helm, argocd, flux, helmfile); each turns a Recipe into files
    graph.py           the dependency graph and install waves (Mermaid, DOT, JSON)
    checksums.py       checksums.txt, in the format `sha256sum -c` reads
    verify.py          a bundle on disk checked against its checksums, as a trust level
    writer.py          writing a bundle: staged beside the target, renamed into place

Importing this package imports nothing else: `aicrc --help` stays fast.
"""
