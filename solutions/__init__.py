"""cnnbook's reference implementations: NumPy in, NumPy out, PyTorch's names and NCHW layout.

Every function here is tested against ``torch.nn.functional`` in ``tests/``; the instructor
notebooks take their solution cells from this package.
"""

from solutions.convolution import conv2d, conv2d_loops, conv_output_size, corr2d
from solutions.dropout import dropout

__all__ = ["corr2d", "conv_output_size", "conv2d", "conv2d_loops", "dropout"]
