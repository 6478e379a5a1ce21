"""solutions.models: the layers behave as their papers say, and the counts are the known ones."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from solutions import conv2d, models
from solutions.models import conv_parameters, count_macs, count_parameters


def linear_parameters(n_in, n_out):
    return n_in * n_out + n_out


def test_modern_lenet_has_the_textbook_parameter_count():
    expected = (conv_parameters(1, 6, 5) + conv_parameters(6, 16, 5) + linear_parameters(400, 120)
                + linear_parameters(120, 84) + linear_parameters(84, 10))
    assert count_parameters(models.lenet()) == expected == 61706


def test_classic_lenet5_counts_layer_by_layer():
    """LeCun et al. 1998: C1 156, S2 12, C3 1516, S4 32, C5 48120, F6 10164 trainable parameters."""
    net = models.lenet5()
    counts = [count_parameters(layer) for layer in net if count_parameters(layer)]
    assert counts == [156, 12, 1516, 32, 48120, 10164, 850]
    assert sum(counts) == count_parameters(net) == 60850


def test_c3_connects_each_map_only_to_its_table_entries():
    torch.manual_seed(0)
    layer = models.SparseConv2d(models.LENET_C3_TABLE, 6, 5)
    x = torch.randn(2, 6, 9, 9)
    out = layer(x)
    weight = layer.weight.split([len(inputs) for inputs in models.LENET_C3_TABLE])
    for o, inputs in enumerate(models.LENET_C3_TABLE):
        expected = F.conv2d(x[:, list(inputs)], weight[o][None], layer.bias[o:o + 1])
        torch.testing.assert_close(out[:, o:o + 1], expected)
    assert sum(map(len, models.LENET_C3_TABLE)) == 60


def test_subsampling_is_a_scaled_2x2_sum_plus_bias():
    layer = models.Subsampling(3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.0, -2.0, 0.5]))
        layer.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    x = torch.randn(2, 3, 4, 6)
    sums = x.unfold(2, 2, 2).unfold(3, 2, 2).sum(dim=(-1, -2))
    torch.testing.assert_close(layer(x), sums * layer.weight[:, None, None] + layer.bias[:, None, None])


def test_scaled_tanh_maps_one_to_one():
    out = models.ScaledTanh()(torch.tensor([-1.0, 0.0, 1.0]))
    torch.testing.assert_close(out, torch.tensor([-1.0, 0.0, 1.0]), atol=1e-4, rtol=0)


@pytest.mark.parametrize("c_in, c_out, k, bias", [(1, 6, 5, True), (3, 64, 3, False), (16, 16, 1, True)])
def test_conv_parameters_match_a_conv_layer(c_in, c_out, k, bias):
    assert conv_parameters(c_in, c_out, k, bias) == count_parameters(nn.Conv2d(c_in, c_out, k, bias=bias))


def test_two_3x3_convolutions_see_5x5_with_fewer_weights():
    channels = 64
    stacked = nn.Sequential(nn.Conv2d(channels, channels, 3), nn.Conv2d(channels, channels, 3))
    single = nn.Conv2d(channels, channels, 5)
    assert count_parameters(stacked) == 2 * (9 * channels ** 2 + channels)
    assert count_parameters(single) == 25 * channels ** 2 + channels
    image = torch.zeros(1, channels, 9, 9, requires_grad=True)
    stacked(image)[0, 0, 2, 2].backward()
    rows, cols = torch.nonzero(image.grad.abs().sum(dim=(0, 1)), as_tuple=True)
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (5, 5)


def test_vgg_block_keeps_the_size_then_halves_it():
    block = models.vgg_block(3, 4, 8)
    assert sum(isinstance(m, nn.Conv2d) for m in block) == 3
    assert block(torch.zeros(2, 4, 12, 10)).shape == (2, 8, 6, 5)


def test_basic_block_adds_its_input():
    torch.manual_seed(0)
    block = models.BasicBlock(4, 4).eval()
    assert isinstance(block.shortcut, nn.Identity)
    nn.init.zeros_(block.residual[-1].weight)  # F(x) = 0: the block is relu(x)
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(block(x), torch.relu(x))


def test_basic_block_projects_when_the_shape_changes():
    block = models.BasicBlock(4, 8, stride=2).eval()
    assert isinstance(block.shortcut[0], nn.Conv2d) and block.shortcut[0].stride == (2, 2)
    assert block(torch.randn(2, 4, 7, 7)).shape == (2, 8, 4, 4)


def test_inception_concatenates_its_branches():
    """GoogLeNet's inception (3a): 192 channels in, 64 + 128 + 32 + 32 = 256 out."""
    block = models.Inception(192, 64, (96, 128), (16, 32), 32)
    x = torch.randn(1, 192, 8, 8)
    out = block(x)
    assert out.shape == (1, 256, 8, 8)
    torch.testing.assert_close(out[:, 64:192], block.branches[1](x))
    expected = (conv_parameters(192, 64, 1) + conv_parameters(192, 96, 1) + conv_parameters(96, 128, 3)
                + conv_parameters(192, 16, 1) + conv_parameters(16, 32, 5) + conv_parameters(192, 32, 1))
    assert count_parameters(block) == expected == 163696


def test_depthwise_convolution_filters_each_channel_alone():
    torch.manual_seed(0)
    block = models.depthwise_separable(3, 5).eval()
    depthwise = block[0]
    x = torch.randn(2, 3, 6, 6)
    ours = np.concatenate([conv2d(x[:, [c]].numpy(), depthwise.weight[[c]].detach().numpy(),
                                  padding=1) for c in range(3)], axis=1)
    np.testing.assert_allclose(depthwise(x).detach().numpy(), ours, atol=1e-5)


def test_depthwise_separable_saves_weights_and_work():
    """A 3x3 depthwise conv of 32 channels has 3*3*32 weights; with the 1x1 it replaces a full 3x3."""
    c_in, c_out = 32, 64
    block = models.depthwise_separable(c_in, c_out)
    assert count_parameters(block[0]) == 3 * 3 * 32
    assert count_parameters(block[3]) == c_in * c_out
    full = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
    ratio = count_macs(nn.Sequential(block[0], block[3]), (c_in, 16, 16)) / count_macs(full, (c_in, 16, 16))
    assert ratio == pytest.approx(1 / c_out + 1 / 9)


def test_count_macs_of_lenet_by_hand():
    conv = 28 * 28 * 6 * (1 * 25) + 10 * 10 * 16 * (6 * 25)
    dense = 400 * 120 + 120 * 84 + 84 * 10
    assert count_macs(models.lenet(), (1, 28, 28)) == conv + dense == 416520
    sparse_c3 = 10 * 10 * 60 * 25
    assert count_macs(models.lenet5(), (1, 28, 28)) == 28 * 28 * 6 * 25 + sparse_c3 + dense


def test_count_macs_leaves_the_model_alone():
    net = models.resnet()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    count_macs(net, (1, 28, 28))
    assert all(torch.equal(v, before[k]) and v.device.type == "cpu" for k, v in net.state_dict().items())
    assert not any(m._forward_hooks for m in net.modules())


def test_count_macs_works_for_a_network_built_on_the_meta_device():
    with torch.device("meta"):
        net = nn.Sequential(nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.Flatten(),
                            nn.Linear(64 * 55 * 55, 10))
    assert count_macs(net, (3, 224, 224)) == 55 * 55 * 64 * 3 * 121 + 64 * 55 * 55 * 10


def test_count_parameters_can_skip_frozen_ones():
    net = models.lenet()
    for p in net[0].parameters():
        p.requires_grad_(False)
    assert count_parameters(net, trainable_only=True) == count_parameters(net) - 156


@pytest.mark.parametrize("name", list(models.MODELS))
@pytest.mark.parametrize("shape", [(1, 28), (3, 32)])
def test_every_model_classifies_grey_digits_and_colour_images(name, shape):
    channels, size = shape
    net = models.build(name, in_channels=channels, num_classes=7, image_size=size)
    assert net(torch.zeros(2, channels, size, size)).shape == (2, 7)


def test_build_names_the_models_it_knows():
    with pytest.raises(ValueError, match="unknown model 'alexnet': choose one of lenet, lenet5"):
        models.build("alexnet")
