"""Binds every scenario of every .feature file of the suite as a test (pytest-bdd).

The files are this directory's, or those of the folder given with
`--ovm-features DIR` (`ovm-conformance run --features DIR`). A file that does
not parse becomes one test that fails as a suite error naming file and line.
"""

from pytest_bdd import scenarios

from conformance.suite import bound_features_dir, malformed_feature_test, split_parsable

_parsable, _malformed = split_parsable(bound_features_dir())
if _parsable:
    scenarios(*_parsable)
for _path, _problem in _malformed.items():
    _test = malformed_feature_test(_path, _problem)
    globals()[_test.__name__] = _test
