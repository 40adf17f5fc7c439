"""Which files a wheel holds (the project's metadata and pins are in pyproject.toml).

Besides the Python packages, the dbt project, its seeds and the operator queries go into the
wheel as `siyu/_project/dbt_project/`, `siyu/_project/seeds/` and `siyu/_project/queries/` (the
dashboard reuses queries), so that a regular (non-editable) `pip install .` builds a warehouse too; `siyu.settings` finds them there when no source tree is
around. dbt's own output folders (target/, logs/) are never shipped.
"""

from setuptools import find_namespace_packages, find_packages, setup

PYTHON_PACKAGES = find_packages(include=["siyu", "siyu.*", "dagster_project", "dagster_project.*",
                                         "data_quality", "data_quality.*"])
DATA_FOLDERS = find_namespace_packages(include=["dbt_project", "dbt_project.*", "seeds", "queries"],
                                       exclude=["dbt_project.target", "dbt_project.target.*",
                                                "dbt_project.logs", "dbt_project.logs.*",
                                                "dbt_project.lint_stubs"])  # sqlfluff's, not dbt's
SHIPPED = {f"siyu._project.{folder}": folder.replace(".", "/") for folder in DATA_FOLDERS}

setup(
    packages=PYTHON_PACKAGES + list(SHIPPED),
    package_dir=SHIPPED,
    package_data={
        "data_quality": ["docs_static/**/*"],  # vendored Data Docs assets (offline reports)
        **{package: ["*.sql", "*.yml", "*.csv", "*.md"] for package in SHIPPED},
    },
)
