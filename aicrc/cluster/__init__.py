"""The cluster room: what a cluster really is, measured, and how it compares with a compiled recipe.

    collectors --collect--> Snapshot --infer--> criteria (for the compiler)
                               |
    CompiledRecipe.constraints +--check--> readiness results --+
    CompiledRecipe.checks + cluster (read-only) --checks/-------> +--report--> table, JSON, CTRF, JUnit
    CompiledRecipe.checkConstraints + NCCL log --nccl.py-------> +
    CompiledRecipe (accelerator, fabric) --nccl_job.py--> the NCCL Job that writes that log

Data flows one way: collectors produce a Snapshot (the reference system's document, `snapshot.py`);
inference and readiness read a Snapshot and a compiled recipe (the document or its pydantic model),
never the language's AST.
"""
