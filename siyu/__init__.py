"""siyu — a private-domain (私域) metrics warehouse.

The library holds everything that is not orchestration: the landing contract and loader
(`siyu.landing`), PII hashing (`siyu.pii`), publishing (`siyu.publish`), the simulator
(`siyu.simulator`), the operator dashboard (`siyu.dashboard`) and the `siyu` command line
(`siyu.cli`). `dagster_project/` is a thin Dagster code location built on it.
"""
