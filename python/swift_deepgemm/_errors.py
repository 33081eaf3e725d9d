"""Exceptions raised by swift_deepgemm.

DeepGEMM raises ``RuntimeError`` for every failed check, so every error here is one; the
subclasses add what kind of rule was broken, the DeepGEMM argument it is about and, for Mega
MoE, the rank that failed.
"""


class DGError(RuntimeError):
    """Base class of every swift_deepgemm error (a ``RuntimeError``, as in DeepGEMM).

    ``argument`` names the DeepGEMM argument the error is about (``None`` when it is not about
    one); ``rank`` names the failed Mega MoE rank (``None`` otherwise).
    """

    def __init__(self, message, argument=None, rank=None):
        super().__init__(message)
        self.argument = argument or None
        self.rank = rank


class DGArgumentError(DGError, ValueError):
    """An argument broke one of DeepGEMM's rules (shape, stride, value, layout)."""


class DGTypeError(DGError, TypeError):
    """An argument has the wrong kind (e.g. not a tensor) or an unsupported dtype."""


class DGUnsupportedError(DGError):
    """Valid arguments that this architecture personality or backend does not support."""


class DGBackendUnavailableError(DGUnsupportedError):
    """The backend the tensors need is not available (e.g. CUDA tensors and no driver)."""


class DGRankError(DGError):
    """A Mega MoE peer rank died, failed or timed out; ``rank`` names it."""


#: dg_status code -> exception class (codes from deepgemm.h).
STATUS_ERRORS = {
    1: DGArgumentError,
    2: DGTypeError,
    3: DGUnsupportedError,
    4: DGBackendUnavailableError,
    5: DGError,
    6: DGRankError,
    7: DGArgumentError,
    8: DGError,
}
