"""The C extension of the chunker (docs/format.md §10.1); everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "strongroom.crypto._chunker",
            ["src/strongroom/crypto/_chunker.c"],
            libraries=["crypto"],
            extra_compile_args=["-O2"],
        )
    ]
)
