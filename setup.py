"""Builds the optional C accelerator `loyalty._fastcsv` (everything else is in pyproject.toml).

`make venv` runs `python setup.py build_ext --inplace` so the extension sits next to the layer's
sources, where the tests, the local cloud and the benchmark import them. When no C compiler is
there, the build is skipped and the pure-Python path runs (same results, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "loyalty._fastcsv",
            sources=["layers/common/loyalty/_fastcsv.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
