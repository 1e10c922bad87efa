"""The check that an output folder is new or empty, and the removal of the
folders that a failed run created, shared by convert and simulate.

Writing into a folder of earlier output would leave old files beside new ones, and
a later hunt of the folder would read both.
"""

from __future__ import annotations

from pathlib import Path

from h056hunt.errors import InputValue, MessageText, UsageError


def check_output_folder(out_dir: Path, command: str) -> None:
    """Raise UsageError when ``out_dir`` cannot become the output folder of
    ``command``: it is a folder with files in it, a file is in the way of its
    path, or the system cannot look the path up."""
    try:
        _check_folder(out_dir, command)
    except OSError as error:
        # Such as a name in the path that is longer than the file system allows.
        raise UsageError(
            MessageText(
                _path_value(out_dir),
                f": the output folder cannot be checked: {error.strerror or error}",
            ),
            hint="name a folder whose path the system can look up, with each "
            "name in it no longer than the file system allows",
        ) from error


def _check_folder(out_dir: Path, command: str) -> None:
    for ancestor in out_dir.absolute().parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise UsageError(
                    MessageText(
                        _path_value(out_dir),
                        ": ",
                        _path_value(ancestor),
                        " is a file, so the output folder cannot be made inside it",
                    ),
                    hint="name a folder whose parents are folders",
                )
            break
    if not out_dir.exists():
        return
    if out_dir.is_dir() and not any(out_dir.iterdir()):
        return
    raise UsageError(
        MessageText(
            _path_value(out_dir), ": the output folder exists and is not empty"
        ),
        hint=f"name a new folder; {command} never writes over earlier output",
    )


def _path_value(path: Path) -> InputValue:
    """Return a path as an error quotes it: escaped and whole."""
    return InputValue(str(path), quoted=False, cut=False)


def missing_folders(folder: Path) -> list[Path]:
    """Return ``folder`` and each parent of it that does not exist, deepest
    first: the folders that ``mkdir(parents=True)`` would create."""
    missing = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing.append(path)
    return missing


def remove_created(files: list[Path], folders: list[Path]) -> None:
    """Remove the files and the folders, deepest first, that a failed run made,
    such as the folders that :func:`missing_folders` returned before it.

    A folder is removed only when it is empty, so a file that another program
    wrote there in the meantime stays. Faults are ignored, because the run's own
    error is the one to report.
    """
    for path in files:
        path.unlink(missing_ok=True)
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
