"""cnnbook's reference implementations: NumPy in, NumPy out, PyTorch's names and NCHW layout.

Every function here is tested against ``torch.nn.functional`` in ``tests/``; the instructor
notebooks take their solution cells from this package.
"""

from solutions.batchnorm import batch_norm, batch_norm_backward, fuse_conv_bn
from solutions.convolution import conv2d, conv2d_loops, conv_output_size, corr2d
from solutions.masks import (masked_max, masked_mean, masked_softmax, padding_mask,
                             padding_mask_from_ids, scaled_dot_product_attention, sequence_mask)

__all__ = ["corr2d", "conv_output_size", "conv2d", "conv2d_loops",
           "batch_norm", "batch_norm_backward", "fuse_conv_bn",
           "padding_mask", "padding_mask_from_ids", "sequence_mask", "masked_mean", "masked_max",
           "masked_softmax", "scaled_dot_product_attention"]
