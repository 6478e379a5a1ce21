"""Hidden cases of the batchnorm assignment, answered by PyTorch in the grader's process."""

import numpy as np
import torch
import torch.nn.functional as F

from autograder.hidden import Case, HiddenTest, hidden_seed


def tensor(array):
    return None if array is None else torch.from_numpy(np.asarray(array, dtype=float))


def torch_batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
                     momentum=0.1, eps=1e-5):
    """PyTorch's batch norm; it updates ``running_mean`` and ``running_var`` in place, as the
    student's must (``torch.from_numpy`` shares their memory)."""
    return F.batch_norm(tensor(input), tensor(running_mean), tensor(running_var), tensor(weight),
                        tensor(bias), training, momentum, eps).numpy()


def training_steps(batch_norm):
    """``batch_norm`` in training mode on several batches in turn, nothing returned: only the
    running statistics it updates in place are compared (arguments 2 and 3)."""
    def steps(batches, running_mean, running_var, momentum):
        for x in batches:
            batch_norm(x, running_mean, running_var, training=True, momentum=momentum)
        return ()
    return steps


def torch_batch_norm_backward(grad_output, input, weight=None, eps=1e-5):
    channels = np.shape(input)[1]
    x = tensor(input).requires_grad_()
    w = tensor(np.ones(channels) if weight is None else weight).requires_grad_()
    b = torch.zeros(channels, dtype=torch.float64, requires_grad=True)
    F.batch_norm(x, None, None, w, b, training=True, eps=eps).backward(tensor(grad_output))
    return x.grad.numpy(), w.grad.numpy(), b.grad.numpy()


def torch_fuse_conv_bn(conv_weight, conv_bias, bn_mean, bn_var, bn_weight, bn_bias, eps=1e-5):
    weight, bias = torch.nn.utils.fuse_conv_bn_weights(
        tensor(conv_weight), tensor(conv_bias), tensor(bn_mean), tensor(bn_var), eps,
        tensor(bn_weight), tensor(bn_bias))
    return weight.detach().numpy(), bias.detach().numpy()


def training_cases():
    rng = np.random.default_rng(hidden_seed(11))
    layers = {  # input shape, weight and bias given, eps, scale of the data
        "an (N, D) batch with weight and bias": ((6, 4), True, 1e-5, 2.0),
        "an (N, C, H, W) batch: statistics per channel": ((3, 2, 4, 5), True, 1e-5, 3.0),
        "an (N, C, L) batch without weight and bias": ((4, 3, 6), False, 1e-5, 1.0),
        "a large eps (it belongs inside the square root)": ((5, 3), True, 0.5, 1.0),
        "a feature with a variance close to eps": ((8, 2, 2, 2), False, 1e-5, 0.003),
    }
    cases = []
    for description, (shape, affine, eps, scale) in layers.items():
        x, c = rng.normal(size=shape) * scale + 1.0, shape[1]
        weight, bias = (rng.normal(size=c), rng.normal(size=c)) if affine else (None, None)
        cases.append(Case(f"training=True and {description}", (x, None, None, weight, bias),
                          {"training": True, "eps": eps}))
    return cases


def running_cases():
    rng = np.random.default_rng(hidden_seed(12))
    layers = {  # input shape, momentum, number of training steps
        "one step on a small batch (m = 3)": ((3, 2), 0.1, 1),
        "the default momentum, three steps on (N, C, H, W)": ((2, 3, 2, 2), 0.1, 3),
        "another momentum, on a batch of 2": ((2, 4), 0.3, 2),
    }
    cases = []
    for description, (shape, momentum, steps) in layers.items():
        c = shape[1]
        running_mean, running_var = rng.normal(size=c), rng.uniform(0.5, 2.0, size=c)
        batches = [rng.normal(size=shape) * 2 + 1 for _ in range(steps)]
        cases.append(Case(f"the running statistics (in place, momentum on the new value, "
                          f"unbiased variance) after {description}",
                          (batches, running_mean, running_var, momentum), check_args=(1, 2)))
    return cases


def eval_cases():
    rng = np.random.default_rng(hidden_seed(13))
    cases = []
    for description, shape in {"an (N, D) batch": (5, 3),
                               "an (N, C, H, W) batch": (2, 4, 3, 3)}.items():
        c = shape[1]
        x = rng.normal(size=shape) * 3
        running_mean, running_var = rng.normal(size=c), rng.uniform(0.1, 2.0, size=c)
        weight, bias = rng.normal(size=c), rng.normal(size=c)
        cases.append(Case(f"training=False and {description} (the running statistics must "
                          f"not change)", (x, running_mean, running_var, weight, bias),
                          {"training": False, "eps": 0.1}, check_args=(1, 2)))
    return cases


def backward_cases():
    rng = np.random.default_rng(hidden_seed(14))
    layers = {  # input shape, weight given, eps
        "an (N, D) batch with weight": ((5, 3), True, 1e-5),
        "an (N, C, H, W) batch with weight": ((2, 3, 4, 4), True, 1e-5),
        "no weight and a large eps": ((4, 2, 3), False, 0.5),
    }
    cases = []
    for description, (shape, has_weight, eps) in layers.items():
        x, grad_output = rng.normal(size=shape) * 2, rng.normal(size=shape)
        weight = rng.normal(size=shape[1]) if has_weight else None
        cases.append(Case(description, (grad_output, x, weight, eps)))
    x = rng.normal(size=(4, 3))
    return cases + [
        Case("a grad_output of another shape than the input (must raise ValueError)",
             (rng.normal(size=(4, 1)), x, None, 1e-5), raises=ValueError),
        Case("a weight of the wrong length (must raise ValueError)",
             (rng.normal(size=(4, 3)), x, np.ones(2), 1e-5), raises=ValueError)]


def fuse_cases():
    rng = np.random.default_rng(hidden_seed(15))
    layers = {  # C_in, C_out, kernel, conv bias, BN weight and bias, eps
        "a 3x3 convolution with bias": (3, 4, 3, True, True, 1e-5),
        "a convolution without bias (the usual case before BN)": (2, 3, 3, False, True, 1e-5),
        "BN without weight and bias, and a large eps": (2, 2, 1, True, False, 0.5),
    }
    cases = []
    for description, (c_in, c_out, k, conv_has_bias, bn_affine, eps) in layers.items():
        W = rng.normal(size=(c_out, c_in, k, k))
        b = rng.normal(size=c_out) if conv_has_bias else None
        mean, var = rng.normal(size=c_out), rng.uniform(0.05, 3.0, size=c_out)
        gamma, beta = (rng.normal(size=c_out), rng.normal(size=c_out)) if bn_affine else (None,
                                                                                         None)
        cases.append(Case(description, (W, b, mean, var, gamma, beta, eps)))
    mean, var = np.zeros(3), np.ones(3)
    return cases + [
        Case("a conv_weight with one axis (must raise ValueError)",
             (np.ones(3), None, mean, var, None, None, 1e-5), raises=ValueError),
        Case("BN statistics of another length than C_out (must raise ValueError)",
             (np.ones((2, 3, 1, 1)), None, mean, var, None, None, 1e-5), raises=ValueError)]


HIDDEN = {
    "batch_norm-training-hidden": HiddenTest("batch_norm", training_cases, torch_batch_norm,
                                             ("batch norm",)),
    "batch_norm-running-hidden": HiddenTest("batch_norm", running_cases,
                                            training_steps(torch_batch_norm), ("batch norm",),
                                            call="training_steps(batch_norm)",
                                            lend={"training_steps": training_steps}),
    "batch_norm-eval-hidden": HiddenTest("batch_norm", eval_cases, torch_batch_norm,
                                         ("batch norm",)),
    "batch_norm_backward-hidden": HiddenTest("batch_norm_backward", backward_cases,
                                             torch_batch_norm_backward,
                                             ("batch norm", "autograd")),
    "fuse_conv_bn-hidden": HiddenTest("fuse_conv_bn", fuse_cases, torch_fuse_conv_bn,
                                      ("batch norm",)),
}
