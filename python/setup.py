"""Builds libdeepgemm.so (scripts/build-c-abi.sh) or takes $DG_LIBRARY_PATH, and packages it in swift_deepgemm.

The wheel holds no CPython extension (the binding is ctypes), so it is tagged
py3-none-linux_x86_64 and serves every Python 3.10+ on Linux x86_64.
"""

import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = "libdeepgemm.so"


def swift_package_root():
    """The checkout holding Package.swift (the parent of python/)."""
    root = os.path.dirname(HERE)
    if not os.path.exists(os.path.join(root, "Package.swift")):
        raise RuntimeError(f"swift-deepgemm: no Package.swift above {HERE}; set DG_LIBRARY_PATH to a prebuilt "
                           f"{LIBRARY}")
    return root


def build_library():
    """Path of the C ABI library: $DG_LIBRARY_PATH, else the checkout's self-contained build by
    scripts/build-c-abi.sh (Swift runtime and Foundation linked in statically)."""
    prebuilt = os.environ.get("DG_LIBRARY_PATH")
    if prebuilt:
        return prebuilt
    root = swift_package_root()
    out = os.path.join(root, ".build-cabi", "dist")
    subprocess.run([os.path.join(root, "scripts", "build-c-abi.sh"), out], cwd=root, check=True)
    return os.path.join(out, "lib", LIBRARY)


class BuildPyWithLibrary(build_py):
    """build_py that also copies the C ABI library into the package as libdeepgemm.so."""

    def run(self):
        super().run()
        source = build_library()
        if not os.path.exists(source):
            raise RuntimeError(f"swift-deepgemm: {source} was not built")
        target = os.path.join(self.build_lib, "swift_deepgemm", LIBRARY)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source, target)


class PlatformDistribution(Distribution):
    """Marks the distribution as platform-specific (it carries a shared library)."""

    def has_ext_modules(self):
        return True


try:
    from wheel.bdist_wheel import bdist_wheel
except ImportError:  # wheel < 0.40 layout or setuptools' own
    from setuptools.command.bdist_wheel import bdist_wheel


class PlatformWheel(bdist_wheel):
    """Wheel tag py3-none-linux_x86_64: one wheel for every CPython 3.10+ (ctypes, no extension)."""

    def get_tag(self):
        return "py3", "none", "linux_x86_64"


setup(distclass=PlatformDistribution,
      cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel})
