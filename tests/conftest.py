"""Shared test configuration: the real servers the suite runs against are session fixtures."""

pytest_plugins = [
    "tests.fixtures.ports",
    "tests.fixtures.overwrites",
    "tests.fixtures.seaweedfs",
    "tests.fixtures.sandbox",
    "tests.fixtures.kms",
    "tests.fixtures.kms_fakes",
]
