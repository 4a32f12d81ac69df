"""Where the feature suite is, and how its .feature files become tests.

The features and the rule catalog ship inside the installed package (the
`features` package, a sibling of `conformance`), so a wheel install runs
from any directory. `--ovm-features DIR` (`ovm-conformance run --features
DIR`) binds a user's own feature folder instead, run with the same steps.

A feature file that does not parse must not take the others down with it,
nor pass unnoticed: it becomes one test that fails as a suite error naming
the file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytest_bdd.exceptions import GherkinParseError, NoScenariosFound
from pytest_bdd.feature import get_features

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # a checkout, or site-packages
DEFAULT_FEATURES_DIR = PACKAGE_ROOT / "features"
TEST_MODULE = DEFAULT_FEATURES_DIR / "test_features.py"
CATALOG_NAME = "rules.yaml"
SUITE_INI = Path(__file__).resolve().parent / "suite.ini"

_bound_dir: Path | None = None  # set by the plugin from --ovm-features for this process
_rootdir: Path | None = None  # pytest's rootdir: node ids and feature paths are relative to it


class SuiteError(Exception):
    """The suite is wrong (a malformed feature, a tag naming nothing): no verdict on any rule."""


def bind_directory(directory: Path | None, rootdir: Path | None = None) -> None:
    """The features directory test_features.py binds in this process (None: the packaged one)."""
    global _bound_dir, _rootdir
    _bound_dir = directory.resolve() if directory is not None else None
    _rootdir = rootdir.resolve() if rootdir is not None else None


def bound_features_dir() -> Path:
    return _bound_dir or DEFAULT_FEATURES_DIR


def default_catalog(features_dir: Path | None = None) -> Path:
    """The catalog beside the features when there is one, else the packaged catalog."""
    if features_dir is not None and (features_dir / CATALOG_NAME).is_file():
        return features_dir / CATALOG_NAME
    return DEFAULT_FEATURES_DIR / CATALOG_NAME


def feature_label(path: str | Path) -> str:
    """A feature file as reports name it: relative to pytest's rootdir (features/x.feature), else to
    its features directory's parent (my-features/x.feature), else in full."""
    path = Path(path).resolve()
    for base in (_rootdir, bound_features_dir().parent):
        if base is not None and path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def feature_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.feature"))


def split_parsable(directory: Path) -> tuple[list[str], dict[Path, str]]:
    """The feature files that parse, and for each one that does not, 'FILE:LINE: problem'."""
    good: list[str] = []
    bad: dict[Path, str] = {}
    for path in feature_files(directory):
        try:
            get_features([str(path)])
        except GherkinParseError as exc:
            bad[path] = f"{feature_label(path)}:{exc.line}: {exc.message}"
        except NoScenariosFound:
            bad[path] = f"{feature_label(path)}: no scenario in the file"
        except (OSError, UnicodeDecodeError) as exc:
            bad[path] = f"{feature_label(path)}: cannot read the feature file: {exc}"
        else:
            good.append(str(path))
    return good, bad


def malformed_feature_test(path: Path, problem: str) -> Callable[[], None]:
    """A test standing for a feature file that does not parse: it fails as a suite error."""

    def test_malformed_feature() -> None:
        raise SuiteError(problem)

    test_malformed_feature.__name__ = "test_malformed_" + "".join(
        c if c.isalnum() else "_" for c in path.stem
    )
    test_malformed_feature.ovm_malformed_feature = feature_label(path)  # type: ignore[attr-defined]
    return test_malformed_feature
