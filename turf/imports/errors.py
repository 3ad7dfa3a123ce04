"""The two ways an import can go wrong: the whole file, or one row."""


class ImportFileError(Exception):
    """The file cannot be imported at all. The message says why and what to do."""


class RowError(Exception):
    """One row (one column of it) cannot be imported. The rest of the file goes on."""

    def __init__(self, column, reason, value=""):
        super().__init__(reason)
        self.column = column
        self.reason = reason
        self.value = value


class LeftOut(RowError):
    """A row the layout says is not a door (a removed voter, a records exemption).

    Counted by reason in the summary, never listed as a refused row.
    """

    def __init__(self, reason, external_id="", voter_status=""):
        super().__init__("", reason)
        self.external_id = external_id
        self.voter_status = voter_status
