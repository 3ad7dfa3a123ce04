"""Voter-file imports: read any delimited export, map its columns, normalise, upsert.

One room per stage, each importing only the stages before it:

- ``errors``: ImportFileError (the whole file) and RowError (one row);
- ``layouts``: the fields, the built-in and saved presets, column mapping;
- ``reading``: sniffing, decoding, the file's shape and its rows as cells;
- ``normalising``: phones, addresses, the household key, one row's values;
- ``writing``: the PostgreSQL COPY writer and the portable (SQLite) writer;
- ``job``: an ImportJob's life — create, run, fail, progress, the bad-rows report.

The rest of Porchlight imports what it needs from here.
"""

from turf.imports.errors import ImportFileError, RowError
from turf.imports.job import (
    error_report_rows,
    import_job_create,
    import_job_fail,
    import_job_retry,
    import_job_run,
    import_jobs_sweep,
    stored_file,
    voters_import,
    voters_preview,
)
from turf.imports.layouts import (
    FIELDS,
    PRESETS,
    Preset,
    import_preset_name_check,
    import_preset_save,
    mapping_by_name,
    mapping_guess,
    mapping_resolve,
    preset_get,
    presets_for,
)
from turf.imports.normalising import (
    address_key,
    address_parse,
    household_key,
    phone_for_import,
)
from turf.imports.reading import FileShape, file_inspect

__all__ = [
    "FIELDS",
    "PRESETS",
    "FileShape",
    "ImportFileError",
    "Preset",
    "RowError",
    "address_key",
    "address_parse",
    "error_report_rows",
    "file_inspect",
    "household_key",
    "import_job_create",
    "import_job_fail",
    "import_job_retry",
    "import_job_run",
    "import_jobs_sweep",
    "import_preset_name_check",
    "import_preset_save",
    "mapping_by_name",
    "mapping_guess",
    "mapping_resolve",
    "phone_for_import",
    "preset_get",
    "presets_for",
    "stored_file",
    "voters_import",
    "voters_preview",
]
