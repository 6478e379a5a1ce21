"""Data-parallel training: replicas that average their gradients, on PyTorch's distributed engine.

Each of W processes (ranks) holds a copy of the model and computes the gradient of the loss on
its own shard of the batch; the gradients are then averaged across the processes (an
all-reduce), so every copy takes the same step. For a loss that is a mean over the batch and W
equal shards of B/W examples, one step of W replicas equals one step of one process on the
whole batch of B:

    g = (1/B) sum_i grad l_i = (1/W) sum_r (W/B) sum_{i in shard r} grad l_i = (1/W) sum_r g_r.

- ``average_gradients``: that all-reduce, written out (``DistributedDataParallel`` does the same,
  bucket by bucket, overlapped with the backward pass);
- ``batch_stats``: batch-norm statistics over the batches of all replicas (what ``SyncBatchNorm``
  computes; PyTorch runs it on GPUs only);
- ``spawn``: run a function in W processes on this machine (gloo, CPU), for the chapter;
- ``main``: the program ``torchrun`` starts on every rank (``cnnbook train --nproc-per-node``).
"""

import argparse
import math
import os
import socket
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from solutions import data, models
from solutions.train import (AUGMENTATION, SCHEDULES, TrainConfig, batches, evaluate,
                             make_optimizer, report, save_checkpoint, seed_everything,
                             select_device, train_epoch)


def average_gradients(model):
    """Replace every parameter's gradient by its mean over all ranks (an all-reduce of sums)."""
    world_size = dist.get_world_size()
    for weight in model.parameters():
        if weight.grad is not None:
            dist.all_reduce(weight.grad, op=dist.ReduceOp.SUM)
            weight.grad /= world_size


def batch_stats(x):
    """Per-channel mean and biased variance of ``x`` (N, C, H, W) over the batches of all ranks.

    Each rank sends its count, sum and sum of squares (one all-reduce); then
    mean = sum / n and var = sum of squares / n - mean^2, as if one batch held them all.
    """
    channels = x.shape[1]
    local = torch.cat([torch.tensor([x.numel() / channels], dtype=x.dtype),
                       x.sum(dim=(0, 2, 3)), (x * x).sum(dim=(0, 2, 3))])
    dist.all_reduce(local, op=dist.ReduceOp.SUM)
    count, sums, squares = local[0], local[1:1 + channels], local[1 + channels:]
    mean = sums / count
    return mean, squares / count - mean ** 2


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(rank, world_size, port, folder, function):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        args = torch.load(Path(folder) / "args.pt", weights_only=False)
        torch.save(function(rank, world_size, *args), Path(folder) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def spawn(function, world_size, *args):
    """Run ``function(rank, world_size, *args)`` in ``world_size`` processes joined in a gloo
    process group on this machine; return what each rank returned, by rank.

    ``function`` must be importable (defined in a module), as processes are started afresh.
    Each process reads its own copy of ``args`` from a file: tensors handed to the processes
    directly would share their memory, and every replica would update the same weights.
    """
    with tempfile.TemporaryDirectory() as folder:
        torch.save(args, Path(folder) / "args.pt")
        mp.spawn(_run, args=(world_size, free_port(), folder, function), nprocs=world_size)
        return [torch.load(Path(folder) / f"rank{rank}.pt", weights_only=False)
                for rank in range(world_size)]


def shard(batch, rank, world_size):
    """Rank ``rank``'s equal part of a batch (tensors split along their first axis)."""
    return [tensor.chunk(world_size)[rank] for tensor in batch]


def sgd_step(model, batch, lr, synchronize=None):
    """One SGD step on cross-entropy; ``synchronize(model)`` runs between backward and step."""
    images, labels = batch
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(images), labels).backward()
    if synchronize is not None:
        synchronize(model)
    with torch.no_grad():
        for weight in model.parameters():
            weight -= lr * weight.grad
    return model


def replica_step(rank, world_size, model, batch, lr, wrap=False):
    """One step of data parallelism on this rank: its shard, gradients averaged across ranks,
    by ``average_gradients`` or, with ``wrap``, by DistributedDataParallel. Returns the
    parameters after the step."""
    if wrap:
        model = DistributedDataParallel(model)
    sgd_step(model, shard(batch, rank, world_size), lr,
             None if wrap else average_gradients)
    return [parameter.detach().clone() for parameter in model.parameters()]


def replica_batch_stats(rank, world_size, x):
    """(this rank's own statistics, the statistics of all ranks' batches) of its shard of x."""
    mine = shard([x], rank, world_size)[0]
    return (mine.mean(dim=(0, 2, 3)), mine.var(dim=(0, 2, 3), unbiased=False)), batch_stats(mine)


def backend_for(device):
    """NCCL between GPUs, gloo between CPU processes."""
    return "nccl" if device.type == "cuda" else "gloo"


def train(model_name, data_name, out, epochs=10, device="auto", data_dir=None, seed=0):
    """Train on this rank's shards, averaging gradients with DDP; rank 0 tests the model and
    writes the run's files (``solutions.train.report``). Returns the metrics on rank 0, else None.

    Run under ``torchrun`` (which sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous). The
    global batch is ``TrainConfig.batch_size``, each rank taking an equal part, so the run
    follows the same recipe as one process.
    """
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = select_device(device)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group(backend_for(device))
    try:
        rank, world_size = dist.get_rank(), dist.get_world_size()
        splits, (mean, std) = data.standardize(data.load(data_name, data_dir, seed=seed))
        channels, size, _ = splits.image_shape
        seed_everything(seed)  # the same initial weights everywhere (DDP broadcasts rank 0's)
        model = models.build(model_name, channels, len(splits.classes), size).to(device)
        if device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        replica = DistributedDataParallel(model, device_ids=[local_rank]
                                          if device.type == "cuda" else None)
        config = TrainConfig(epochs=epochs, device=device.type, seed=seed,
                             progress=False, **AUGMENTATION[data_name])
        optimizer = make_optimizer(config, replica.parameters())
        sampler = DistributedSampler(splits.train, num_replicas=world_size, rank=rank,
                                     shuffle=True, seed=seed, drop_last=True)
        history, started = [], time.perf_counter()
        for epoch in range(epochs):
            sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
            lr = SCHEDULES[config.schedule](epoch, config.lr, epochs)
            for group in optimizer.param_groups:
                group["lr"] = lr
            mine = torch.utils.data.TensorDataset(*splits.train[list(sampler)])
            start = time.perf_counter()
            loss, accuracy = train_epoch(replica, batches(
                mine, math.ceil(config.batch_size / world_size), device), optimizer)
            seconds = time.perf_counter() - start
            val_loss, val_accuracy = evaluate(model, batches(splits.val, 512, device))
            history.append({"epoch": epoch + 1, "train_loss": loss, "train_accuracy": accuracy,
                            "val_loss": val_loss, "val_accuracy": val_accuracy, "lr": lr,
                            "seconds": seconds,
                            "images_per_second": len(mine) * world_size / seconds})
            if rank == 0:
                print(f"epoch {epoch + 1}: loss {loss:.3f}, train accuracy {accuracy:.3f}, "
                      f"val accuracy {val_accuracy:.3f} ({world_size} processes)", flush=True)
        if rank != 0:
            return None
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        save_checkpoint(out / "checkpoint.pt", model, optimizer, config, history,
                        torch.Generator().manual_seed(seed))
        return report(out, model_name, data_name, model, splits, config, history,
                      time.perf_counter() - started, (mean, std),
                      processes=world_size)
    finally:
        dist.destroy_process_group()


def main(argv=None):
    """What each rank runs: ``torchrun ... -m solutions.distributed --model lenet ...``."""
    parser = argparse.ArgumentParser(prog="python -m solutions.distributed")
    parser.add_argument("--model", default="lenet")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data-dir")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("WORLD_SIZE", 1))))
    metrics = train(args.model, args.data, args.out, args.epochs, args.device, args.data_dir)
    if metrics is not None:
        print(f"wrote {args.out}: checkpoint.pt, metrics.json, plots")
        print(f"test_accuracy={metrics['test_accuracy']:.3f}")


if __name__ == "__main__":
    main()
