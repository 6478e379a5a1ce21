"""The networks of the training chapters, small enough to train on a CPU, and how to count them.

Every constructor takes ``in_channels``, ``num_classes`` and ``image_size`` (square images), so
the same code runs on the 28x28 digits, MNIST and 32x32 colour CIFAR-10. ``count_parameters``
and ``count_macs`` measure any ``nn.Module``; the chapters use them for the classic designs.
"""

import copy

import torch
from torch import nn

from solutions.convolution import conv_output_size

#: LeNet-5's C3 table (LeCun et al. 1998, Table I): which S2 maps feed each of the 16 C3 maps.
#: Six maps see 3 neighbouring maps, six see 4 neighbours, three see 4 non-neighbours, one all.
LENET_C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def count_parameters(model, trainable_only=False):
    """Number of scalars in the model's parameters (only those with requires_grad, if asked)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model, input_shape):
    """Multiply-accumulates of one forward pass on one input of shape (C, H, W).

    Counts convolutions, (C_out H_out W_out) (C_in / groups) k_h k_w (LeNet's sparse C3: its
    connected kernels only), and linear layers, in_features out_features; a FLOP count is about twice this. Runs on the "meta" device:
    shapes only, no memory for activations or arithmetic, so ImageNet-sized nets are cheap.
    """
    macs = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k_h, k_w = module.kernel_size
            macs.append(output[0].numel() * module.in_channels // module.groups * k_h * k_w)
        elif isinstance(module, SparseConv2d):  # only the connected kernels do work
            macs.append(output[0, 0].numel() * module.weight.numel())
        elif isinstance(module, nn.Linear):
            macs.append(output[0].numel() * module.in_features)

    meta = copy.deepcopy(model).to("meta").eval()  # build a big net under torch.device("meta")
    for module in meta.modules():
        module.register_forward_hook(hook)
    with torch.no_grad():
        meta(torch.empty(1, *input_shape, device="meta"))
    return sum(macs)


def conv_parameters(in_channels, out_channels, kernel_size, bias=True):
    """Parameters of one k x k convolution: C_out (C_in k^2 + 1), or C_out C_in k^2 without bias."""
    return out_channels * (in_channels * kernel_size ** 2 + bias)


class ScaledTanh(nn.Module):
    """LeNet-5's squashing function f(a) = 1.7159 tanh(2a / 3), so that f(+-1) = +-1."""

    def forward(self, input):
        return 1.7159 * torch.tanh(2 * input / 3)


class Subsampling(nn.Module):
    """LeNet-5's S2/S4 layer: sum of each 2x2 block, times a learned coefficient, plus a bias.

    Two parameters per channel, unlike today's parameter-free average or max pooling.
    """

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, input):
        sums = 4 * nn.functional.avg_pool2d(input, 2)
        return sums * self.weight[:, None, None] + self.bias[:, None, None]


class SparseConv2d(nn.Module):
    """A convolution whose output map o sees only the input maps ``table[o]`` (LeNet's C3).

    Only the connected kernels are parameters: sum_o |table[o]| k^2 weights and C_out biases.
    """

    def __init__(self, table, in_channels, kernel_size):
        super().__init__()
        self.shape = (len(table), in_channels, kernel_size, kernel_size)
        index = [o * in_channels + c for o, inputs in enumerate(table) for c in inputs]
        self.register_buffer("index", torch.tensor(index))
        fan_in = torch.tensor([len(table[i // in_channels]) for i in index]) * kernel_size ** 2
        bound = (1 / fan_in.float()).sqrt()[:, None, None]
        self.weight = nn.Parameter((torch.rand(len(index), kernel_size, kernel_size) * 2 - 1) * bound)
        self.bias = nn.Parameter(torch.zeros(len(table)))

    def forward(self, input):
        c_out, c_in, k_h, k_w = self.shape
        full = self.weight.new_zeros(c_out * c_in, k_h, k_w).index_copy(0, self.index, self.weight)
        return nn.functional.conv2d(input, full.view(self.shape), self.bias)


def _flat_size(channels, image_size, layers):
    """Features left after ``layers``, a list of (kernel, padding, stride) along one axis."""
    n = image_size
    for k, p, s in layers:
        n = conv_output_size(n, k, p, s)
    return channels * n * n


def lenet5(in_channels=1, num_classes=10, image_size=28):
    """LeNet-5 as in LeCun et al. (1998): C1, S2, C3, S4, C5, F6, output, with scaled tanh.

    The paper's input is 32x32 with the digit in the middle; a 28x28 image gets C1's 2 pixels
    of zero padding instead. C3 keeps the paper's sparse table (1516 parameters, not 2416);
    the output layer is linear here, where the paper had 84-input RBF units with fixed codes.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2), ScaledTanh(),               # C1
        Subsampling(6), ScaledTanh(),                                        # S2
        SparseConv2d(LENET_C3_TABLE, 6, 5), ScaledTanh(),                    # C3
        Subsampling(16), ScaledTanh(),                                       # S4
        nn.Flatten(),
        nn.Linear(_flat_size(16, image_size, [(5, 2, 1), (2, 0, 2), (5, 0, 1), (2, 0, 2)]), 120),
        ScaledTanh(),                                                        # C5
        nn.Linear(120, 84), ScaledTanh(),                                    # F6
        nn.Linear(84, num_classes),                                          # output
    )


def lenet(in_channels=1, num_classes=10, image_size=28):
    """LeNet-5 as it is trained today: ReLU, 2x2 max pooling, full C3, a linear classifier."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(_flat_size(16, image_size, [(5, 2, 1), (2, 0, 2), (5, 0, 1), (2, 0, 2)]), 120),
        nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )


def vgg_block(num_convs, in_channels, out_channels):
    """VGG's unit: ``num_convs`` 3x3 convolutions (padding 1) with ReLU, then 2x2 max pooling."""
    layers = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1),
                   nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2))


def vgg(in_channels=1, num_classes=10, image_size=28, widths=(16, 32), convs_per_block=2):
    """A small VGG: blocks of stacked 3x3 convolutions, each block halving the size, then a
    classifier with dropout."""
    blocks = [vgg_block(convs_per_block, c_in, c_out)
              for c_in, c_out in zip((in_channels,) + widths[:-1], widths)]
    size = image_size // 2 ** len(widths)
    return nn.Sequential(*blocks, nn.Flatten(),
                         nn.Linear(widths[-1] * size * size, 128), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(128, num_classes))


class BasicBlock(nn.Module):
    """ResNet's basic block: relu(x' + F(x)), F = conv3x3-BN-ReLU-conv3x3-BN.

    x' = x when the shape is kept; a strided 1x1 convolution with BN when the block changes
    the number of channels or has stride 2 (the "projection shortcut").
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels))
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x):
        return torch.relu(self.shortcut(x) + self.residual(x))


def resnet(in_channels=1, num_classes=10, image_size=28, widths=(16, 32, 64)):
    """A small ResNet: a 3x3 stem, one basic block per width (stride 2 after the first),
    global average pooling and a linear classifier. Works for any image_size."""
    blocks = [BasicBlock(c_in, c_out, stride=1 if i == 0 else 2)
              for i, (c_in, c_out) in enumerate(zip(widths[:1] + widths[:-1], widths))]
    return nn.Sequential(
        nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]),
        nn.ReLU(), *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(widths[-1], num_classes))


class Inception(nn.Module):
    """GoogLeNet's block: four parallel branches, concatenated along the channels.

    1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1, each followed by ReLU; the 1x1
    "reductions" keep the 3x3 and 5x5 cheap. Output channels: c1 + c3[1] + c5[1] + pool_proj.
    """

    def __init__(self, in_channels, c1, c3, c5, pool_proj):
        super().__init__()
        self.branches = nn.ModuleList([
            nn.Sequential(nn.Conv2d(in_channels, c1, 1), nn.ReLU()),
            nn.Sequential(nn.Conv2d(in_channels, c3[0], 1), nn.ReLU(),
                          nn.Conv2d(c3[0], c3[1], 3, padding=1), nn.ReLU()),
            nn.Sequential(nn.Conv2d(in_channels, c5[0], 1), nn.ReLU(),
                          nn.Conv2d(c5[0], c5[1], 5, padding=2), nn.ReLU()),
            nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                          nn.Conv2d(in_channels, pool_proj, 1), nn.ReLU()),
        ])

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)


def depthwise_separable(in_channels, out_channels, stride=1):
    """MobileNet's block: a 3x3 depthwise convolution (one kernel per channel, groups=C_in),
    then a 1x1 pointwise convolution mixing channels, each with BN and ReLU.

    Weights: 9 C_in + C_in C_out instead of 9 C_in C_out for a full 3x3 convolution.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, in_channels, 3, stride, padding=1, groups=in_channels, bias=False),
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU())


#: The networks ``cnnbook train --model`` knows, by name.
MODELS = {"lenet": lenet, "lenet5": lenet5, "vgg": vgg, "resnet": resnet}


def build(name, in_channels=1, num_classes=10, image_size=28):
    """The network ``name`` (a key of MODELS) for images (in_channels, image_size, image_size)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}")
    return MODELS[name](in_channels=in_channels, num_classes=num_classes, image_size=image_size)
