"""cnnbook's reference implementations: NumPy in, NumPy out, PyTorch's names and NCHW layout.

Every function here is tested against ``torch.nn.functional`` in ``tests/``; the instructor
notebooks take their solution cells from this package.
"""

from solutions.batchnorm import batch_norm, batch_norm_backward, fuse_conv_bn
from solutions.convolution import conv2d, conv2d_loops, conv_output_size, corr2d
from solutions.dropout import dropout
from solutions.masks import (masked_max, masked_mean, masked_softmax, padding_mask,
                             padding_mask_from_ids, scaled_dot_product_attention, sequence_mask)
from solutions.multichannel import corr2d_multi_in, corr2d_multi_in_out
from solutions.onebyone import conv1x1, linear
from solutions.padding import pad2d
from solutions.pooling import (avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward,
                               pool_output_size)
from solutions.stride import corr2d_strided, receptive_field

__all__ = ["corr2d", "conv_output_size", "conv2d", "conv2d_loops", "pad2d", "corr2d_strided",
           "receptive_field", "corr2d_multi_in", "corr2d_multi_in_out", "linear", "conv1x1",
           "pool_output_size", "max_pool2d", "avg_pool2d", "max_pool2d_backward",
           "avg_pool2d_backward", "batch_norm", "batch_norm_backward", "fuse_conv_bn",
           "padding_mask", "padding_mask_from_ids", "sequence_mask", "masked_mean", "masked_max",
           "masked_softmax", "scaled_dot_product_attention", "dropout"]
