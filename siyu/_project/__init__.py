"""In an installed wheel this package holds the dbt project (`dbt_project/`) and its seeds
(`seeds/`), shipped by setup.py; in a source tree it is empty and the repository's own folders are
used (siyu.settings.REPO_ROOT)."""
