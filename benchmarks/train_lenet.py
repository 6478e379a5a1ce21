"""Time to 97% test accuracy: LeNet on the bundled digits, the whole recipe, wall clock.

Not a test (timings depend on the machine and on what else runs on it). For each epoch
budget the full recipe runs from scratch: load and standardize the data, seed, build LeNet,
fit with a cosine schedule over that budget, measure test accuracy. The time to accuracy is
that of the smallest budget that reaches the target, as in DAWNBench.

    python benchmarks/train_lenet.py [--device auto|cpu|cuda] [--target 0.97]
"""

import argparse
import os
import platform
import time

import torch

from solutions import data, models, train


def recipe(epochs, device):
    """Train LeNet on the digits for ``epochs``; return (seconds, test accuracy, images/s)."""
    start = time.perf_counter()
    splits, _ = data.standardize(data.digits())
    train.seed_everything(0)
    model = models.lenet()
    config = train.TrainConfig(epochs=epochs, device=device, progress=False)
    history = train.fit(model, splits, config)
    accuracy = train.test_report(model, splits)["test_accuracy"]
    throughput = sum(len(splits.train) for _ in history) / sum(h["seconds"] for h in history)
    return time.perf_counter() - start, accuracy, throughput


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--target", type=float, default=0.97)
    args = parser.parse_args()
    device = train.select_device(args.device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else platform.machine()
    print(f"device {device} ({name}), {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print("epochs  seconds  test_accuracy  train_images/s")
    for epochs in (2, 4, 6, 8, 10, 15):
        seconds, accuracy, throughput = recipe(epochs, args.device)
        print(f"{epochs:6}  {seconds:7.1f}  {accuracy:13.3f}  {throughput:14.0f}")
        if accuracy >= args.target:
            print(f"time to {args.target:.0%} test accuracy: {seconds:.1f} s ({epochs} epochs)")
            return
    print(f"the target {args.target:.0%} was not reached")


if __name__ == "__main__":
    main()
